package io.godwit.api.dirty;

import java.util.function.IntConsumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Lets a tracker run code on every vCPU of a VM, the way KVM kicks vCPUs out of guest mode so that
 * each flushes its PML log or sees a new write protection. Implemented by the kernel.
 */
@ProviderType
public interface VcpuRendezvous {

    /**
     * Runs {@code action(index)} on each vCPU's own thread at its next quantum boundary (or on the
     * calling thread for a vCPU that is parked and so cannot store) and returns when every vCPU has
     * run it. Blocks the caller for at most about one quantum.
     *
     * @throws InterruptedException if the caller is interrupted while waiting
     */
    void onEachVcpu(IntConsumer action) throws InterruptedException;
}
