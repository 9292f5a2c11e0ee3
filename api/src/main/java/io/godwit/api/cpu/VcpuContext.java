package io.godwit.api.cpu;

import io.godwit.api.memory.CpuMemory;
import org.osgi.annotation.versioning.ProviderType;

/** What the kernel gives one vCPU: its index, its CPU path into memory and its exit request. */
@ProviderType
public interface VcpuContext {

    /** The vCPU's index, from 0. */
    int index();

    /** Number of vCPUs in the VM. */
    int vcpuCount();

    /** The CPU path for this vCPU; used only on its thread. */
    CpuMemory memory();

    /**
     * True when the kernel wants {@link Vcpu#run} to return soon (a kick: pause, sync, throttle or
     * state save). A vCPU polls it at least every few microseconds of guest work.
     */
    boolean exitRequested();
}
