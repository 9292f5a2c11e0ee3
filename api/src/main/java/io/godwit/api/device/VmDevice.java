package io.godwit.api.device;

import org.osgi.annotation.versioning.ProviderType;

/** A device attached to a VM, as the kernel holds it: what the coordinator and the shell see. */
@ProviderType
public interface VmDevice {

    /** The device's id within its VM, for example {@code net0}. */
    String id();

    /** The device type, the {@link DeviceFactory#NAME} of its factory, for example {@code virtio-net}. */
    String type();

    /** The options it was created with, as given to {@code --device}. */
    String options();

    /** The device itself. */
    Device device();

    /** True when the device registered at least one dirty log source that is still open. */
    boolean hasDirtyLogSource();

    /** {@code device net0 (virtio-net)}: how errors name it. */
    default String label() {
        return "device " + id() + " (" + type() + ")";
    }
}
