package io.godwit.api.dirty;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A tracker's hook on the CPU path of one vCPU: what the EPT dirty bit, the PML log or a
 * write-protect fault does in hardware.
 *
 * <h2>Cached answers: the TLB's dirty flag</h2>
 * In hardware a store to a page whose TLB entry already says "dirty" (EPT D bit set, or write
 * permission granted) costs nothing extra; only the first store after a harvest does. A tracker gets
 * the same from the kernel by answering {@link #onWriteCacheable}: the CPU path then stores to the
 * pages it was told about without calling the hook, until that vCPU's next
 * {@linkplain VcpuRendezvous rendezvous} action or until its hook changes. So a tracker that clears
 * what made a page cacheable (D bits, write permissions) must run an action on every vCPU (a TLB
 * shootdown kick) before it relies on seeing their next stores to that page, as it must for its own
 * cached state anyway. This is QEMU's TLB_NOTDIRTY flag under TCG, and why {@code tlb_reset_dirty}
 * runs after a dirty bitmap sync.
 */
@ConsumerType
@FunctionalInterface
public interface WriteHook {

    /**
     * Called on the vCPU's thread after a guest store to page {@code page} (a guest page frame
     * number) while logging is on. It runs on the hottest path there is: no locks, no allocation, and
     * nothing that blocks, except where the mechanism itself costs an exit.
     */
    void onWrite(long page);

    /**
     * Does what {@link #onWrite} does, then answers which pages of {@code page}'s aligned group of 64
     * the vCPU may store to without calling this hook again: bit {@code i} stands for page
     * {@code (page & ~63) + i}. A bit may be set only for a page whose stores this hook would ignore
     * until the tracker next runs an action on this vCPU through the rendezvous (its D bit or write
     * permission as this vCPU has read it since the tracker last dropped that vCPU's cached state,
     * which it does at each of its kicks and before its hooks are installed). The kernel calls this
     * rather than {@code onWrite} for a store within one page, on the same thread and under the same
     * rules, and {@code onWrite} for each page of a store across two. It keeps only the latest
     * answer: every call to either method replaces what it had cached.
     *
     * @return the cacheable pages of the group; the default, 0, asks for a call on every store
     * @since 1.1
     */
    default long onWriteCacheable(long page) {
        onWrite(page);
        return 0;
    }
}
