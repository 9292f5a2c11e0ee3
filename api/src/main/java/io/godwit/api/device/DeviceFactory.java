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
     * Makes a device for a VM being created. Called on the thread that creates the VM.
     *
     * @throws IllegalArgumentException with a one-line message for an unknown or bad option
     */
    Device create(DeviceContext context, Map<String, String> options);
}
