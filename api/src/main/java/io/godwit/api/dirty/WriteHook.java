package io.godwit.api.dirty;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A tracker's hook on the CPU path of one vCPU: what the EPT dirty bit, the PML log or a
 * write-protect fault does in hardware.
 */
@ConsumerType
@FunctionalInterface
public interface WriteHook {

    /**
     * Called on the vCPU's thread after every guest store to page {@code page} (a guest page frame
     * number) while logging is on. It runs on the hottest path there is: no locks, no allocation, and
     * nothing that blocks, except where the mechanism itself costs an exit.
     */
    void onWrite(long page);
}
