package io.godwit.api.device;

import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Makes devices of one type. Registered as a whiteboard service with the property {@link #NAME};
 * {@code vm_create --device TYPE,key=value,...} picks it by name.
 */
@ConsumerType
public interface DeviceFactory {

    /** Service property (String, required): the device type, for example {@code virtio-net}. */
    String NAME = "godwit.device";

    /**
     * Service property (String or String[], optional): the options that name a resource of this
     * host, such as a disk image's path. A destination that takes a VM's shape from the migration
     * stream never takes these from the source: {@code vm_create --device-map ID=VALUE} gives them.
     *
     * @since 1.3
     */
    String LOCAL_OPTIONS = "godwit.device.local-options";

    /**
     * Makes a device for a VM being created. Called on the thread that creates the VM.
     *
     * @throws IllegalArgumentException with a one-line message for an unknown or bad option
     */
    Device create(DeviceContext context, Map<String, String> options);
}
