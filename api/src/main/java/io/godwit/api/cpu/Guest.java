package io.godwit.api.cpu;

import io.godwit.api.memory.GuestMemory;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A prepared guest: the program or workload of one VM, which makes its vCPUs and knows how to check
 * its memory.
 */
@ConsumerType
public interface Guest {

    /**
     * Makes vCPU {@code context.index()}. Called once per vCPU on the thread that creates the VM.
     */
    Vcpu createVcpu(VcpuContext context);

    /**
     * The workload's oracle: checks guest memory for pages that a correct run could not have left.
     * Called with every vCPU stopped; reads memory through the raw path.
     */
    OracleVerdict check(GuestMemory memory);

    /** A short description for {@code info vms}, for example {@code sweep over 2 GiB, 2 ranges}. */
    String describe();

    /**
     * What the guest wrote to its console (a UART) so far, for {@code info console}; empty for a guest
     * with no console. May be called from any thread while the vCPUs run.
     */
    default String console() {
        return "";
    }
}
