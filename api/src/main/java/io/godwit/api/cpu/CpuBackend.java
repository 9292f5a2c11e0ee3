package io.godwit.api.cpu;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A CPU backend: runs guest code on vCPUs (QEMU's accelerator; TCG for an interpreter).
 *
 * <p>Registered as a whiteboard service with the property {@link #NAME}; the kernel picks one by
 * that name when a VM is created. The kernel owns the vCPU threads and calls each {@link Vcpu} only
 * from its own thread.
 */
@ConsumerType
public interface CpuBackend {

    /** Service property (String, required): the backend's name, as given to {@code vm_create --cpu}. */
    String NAME = "godwit.cpu";

    /**
     * Prepares a guest for a new VM: parses the workload or program, lays it out in memory and
     * returns the object that makes its vCPUs.
     *
     * <p>Called on the thread that creates the VM, before any vCPU runs; may block on file I/O.
     *
     * @throws IllegalArgumentException with a one-line message for a workload or option that does
     *     not exist or does not fit
     */
    Guest createGuest(GuestConfig config);

    /** One line that says which workloads or programs this backend runs, for help texts. */
    String describeWorkloads();
}
