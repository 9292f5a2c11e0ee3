package io.godwit.api.dirty;

import io.godwit.api.memory.GuestMemory;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A dirty tracker: the mechanism that sees guest stores on the CPU path (KVM's bitmap, Intel PML,
 * write-protect faults, the dirty ring).
 *
 * <p>Registered as a whiteboard service with the property {@link #NAME}; a VM picks one by name at
 * creation ({@code vm_create --dirty-tracker}). The kernel tracks the services; nobody else looks
 * them up.
 */
@ConsumerType
public interface DirtyTracker {

    /** Service property (String, required): the tracker's name, for example {@code bitmap}. */
    String NAME = "godwit.dirty";

    /**
     * Makes the tracker's state for one VM. Called on the thread that creates the VM.
     *
     * @param memory the VM's RAM; pages are numbered as in {@link GuestMemory#pages()}
     * @param vcpus the VM's number of vCPUs
     */
    DirtyLog create(GuestMemory memory, int vcpus);

    /** One line about the mechanism, for {@code info dirty-trackers}. */
    String description();
}
