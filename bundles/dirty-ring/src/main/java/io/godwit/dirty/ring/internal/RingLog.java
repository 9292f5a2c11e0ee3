package io.godwit.dirty.ring.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import io.godwit.dirty.common.internal.ExitCost;
import io.godwit.dirty.common.internal.Kicks;
import io.godwit.dirty.common.internal.SyncTimes;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One VM's dirty rings ([LK] {@code virt/kvm/dirty_ring.c}; KVM {@code api.rst}, KVM_CAP_DIRTY_LOG_RING).
 *
 * <h2>Mechanism</h2>
 * <ul>
 *   <li>Every page is <b>write-protected</b> when logging starts and again when its ring entry is
 *       reset (one bit per page, atomic per word; each vCPU caches the last word it read, as a TLB).</li>
 *   <li>The first store to a protected page takes a <b>write fault</b> (one exit): the vCPU unprotects
 *       the page with an atomic OR and, if its OR is the one that unprotected it, pushes the GFN onto
 *       <b>its own ring</b> (KVM's {@code kvm_dirty_ring_push}). So a page has one entry per round,
 *       in the ring of the vCPU that first wrote it.</li>
 *   <li>When a ring holds {@code size - 64} entries (KVM's soft limit: the size less the reserved
 *       entries) the vCPU takes a <b>ring-full exit</b> (KVM_EXIT_DIRTY_RING_FULL): it reaps its ring
 *       into the VM's dirty bitmap and resets it, re-protecting the reaped pages, as QEMU's vCPU thread
 *       does under the BQL.</li>
 *   <li><b>Sync</b>: (1) kick every vCPU (its in-flight fault completes, so every unprotected page
 *       has its entry pushed; each drops its cached permissions); (2) per ring, under the ring's
 *       lock: harvest the entries in order, from the last reset to the producer index, into the
 *       target, then reset them (re-protect their pages), which KVM says must happen before page
 *       contents are read; then take the reaped bitmap; (3) if anything was re-protected, a TLB
 *       shootdown (kick every vCPU again), then return. A sync costs the dirty entries, not the
 *       size of RAM (the ring's point), except for the reaped bitmap, scanned only after a ring-full
 *       exit.</li>
 * </ul>
 *
 * <h2>Why no store is lost</h2>
 * Take a store S to page p by vCPU A whose hook H returned before sync k returns.
 * <ul>
 *   <li>H found p protected: A faulted; the vCPU whose OR unprotected p pushed p (A, or a vCPU B
 *       that faulted at the same moment) before its hook returned. That entry is in harvest k if
 *       pushed before k's step (2) read that ring, else in k+1 (kicks in (1) make sure no push is
 *       half done); or a ring-full exit moved it into the reaped bitmap, taken by k or k+1.</li>
 *   <li>H found p writable, in the shared word or in A's cached copy read since A's last kick. p is
 *       writable only between the OR that unprotected it and the reset of its entry (resets happen
 *       only to harvested or reaped entries). If that entry is harvested by k or k+1, S must be visible
 *       to the page read after that harvest: H ran before A passed the shootdown (3) of the sync that
 *       reset p, so S happens-before its return (the rendezvous hands over through the VM lock and
 *       a latch). It cannot have run after: the shootdown dropped A's cached word, so H would have
 *       read the re-protected word. For a reset at a ring-full exit (no shootdown there), p sits in
 *       the reaped bitmap until the next sync, whose kicks in step (1) come before it takes the
 *       bitmap: S happens-before that step, or A's cache was dropped and S faults again.</li>
 * </ul>
 * Reset needs a lock because two threads consume a ring: the migration thread at a sync, and the
 * vCPU at a ring-full exit (an exit may block; the hot path never takes the lock).
 */
final class RingLog implements DirtyLog {

    /** KVM_DIRTY_RING_RSVD_ENTRIES: room kept free so a vCPU can always push before it exits. */
    static final int RESERVED_ENTRIES = 64;

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PUSHED;

    static {
        try {
            PUSHED = MethodHandles.lookup().findVarHandle(Ring.class, "pushed", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long pages;
    private final int ringSize;
    private final long exitCostNs;
    /** One bit per page: set = writable. Atomic per word. */
    private final long[] writable;
    /** Pages reaped from full rings by their vCPUs, waiting for the next sync. */
    private final DirtyBitmap reaped;
    private volatile boolean anyReaped;
    private final Ring[] rings;
    private final Kicks kicks;
    private final LongAdder faults = new LongAdder();
    private final LongAdder fullExits = new LongAdder();
    private final SyncTimes syncTimes = new SyncTimes();

    RingLog(long pages, int vcpuCount, int ringSize, long exitCostNs) {
        if (pages < 0 || (pages + 63) / 64 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many pages: " + pages);
        }
        this.pages = pages;
        this.ringSize = ringSize;
        this.exitCostNs = exitCostNs;
        this.writable = new long[(int) ((pages + 63) >>> 6)];
        this.reaped = new DirtyBitmap(pages);
        this.kicks = new Kicks(exitCostNs);
        this.rings = new Ring[vcpuCount];
        for (int i = 0; i < vcpuCount; i++) {
            rings[i] = new Ring(ringSize);
        }
    }

    @Override
    public WriteHook hook(int vcpu) {
        return rings[vcpu];
    }

    /** Logging on: every page protected, every ring empty. No hook is installed yet. */
    @Override
    public void start(VcpuRendezvous rendezvous) {
        clear();
    }

    private void clear() {
        for (int w = 0; w < writable.length; w++) {
            WORDS.setVolatile(writable, w, 0L);
        }
        reaped.clear();
        anyReaped = false;
        for (Ring r : rings) {
            r.clear();
        }
    }

    @Override
    public long sync(DirtyBitmap target, VcpuRendezvous rendezvous) throws InterruptedException {
        if (target.pages() != pages) {
            throw new IllegalArgumentException("target bitmap has " + target.pages() + " pages, not " + pages);
        }
        long t0 = System.nanoTime();
        kicks.onEachVcpu(rendezvous, i -> rings[i].flushTlb()); // (1)
        long[] added = new long[1];
        long reset = 0;
        for (Ring r : rings) { // (2)
            reset += r.harvestAndReset(target, added);
        }
        long n = added[0];
        if (anyReaped) {
            anyReaped = false;
            n += takeReaped(target);
        }
        // (3) TLB shootdown, whenever a page was re-protected: not only when the target gained a
        // page (a migration bitmap may still hold a page this sync re-protected, and a vCPU's
        // cached "writable" for it must not outlive the sync).
        if (reset > 0) {
            kicks.onEachVcpu(rendezvous, i -> rings[i].flushTlb());
        }
        syncTimes.record(t0, n);
        return n;
    }

    /** Logging off; the kernel has removed the hooks. Entries not harvested are dropped. */
    @Override
    public void stop() {
        clear();
    }

    /** Moves the reaped bitmap into the target; returns the pages that were not set there yet. */
    private long takeReaped(DirtyBitmap target) {
        long n = 0;
        for (int w = 0; w < reaped.wordCount(); w++) {
            long bits = reaped.harvestWord(w);
            if (bits != 0) {
                n += Long.bitCount(bits & ~target.word(w));
                target.orWord(w, bits);
            }
        }
        return n;
    }

    private void protect(long page) {
        WORDS.getAndBitwiseAnd(writable, (int) (page >>> 6), ~(1L << page));
    }

    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        long f = faults.sum();
        long full = fullExits.sum();
        long k = kicks.count();
        m.put("exits", f + full + k);
        m.put("write-faults", f);
        m.put("ring-full-exits", full);
        m.put("kicks", k);
        syncTimes.putInto(m);
        m.put("exit-cost-ns", exitCostNs);
        m.put("ring-size", (long) ringSize);
        return m;
    }

    /**
     * One vCPU's ring and its hook. {@code pushed} is written only by the vCPU (published with
     * release); {@code reset} only under this ring's lock.
     */
    final class Ring implements WriteHook {
        private final long[] w = writable;
        private final long[] gfns;
        private final int mask;
        private final int softLimit;
        @SuppressWarnings("unused") // through PUSHED
        private long pushed;
        private volatile long reset;
        private int tlbIndex = -1;
        private long tlbWord;

        Ring(int size) {
            this.gfns = new long[size];
            this.mask = size - 1;
            this.softLimit = size - RESERVED_ENTRIES;
        }

        @Override
        public void onWrite(long page) {
            int i = (int) (page >>> 6);
            long bit = 1L << page;
            if (i == tlbIndex && (tlbWord & bit) != 0) {
                return; // writable, as cached
            }
            long v = (long) WORDS.getOpaque(w, i);
            tlbIndex = i;
            tlbWord = v;
            if ((v & bit) == 0) {
                fault(page, i, bit);
            }
        }

        /** The write fault: unprotect, and push the GFN if this vCPU is the one that unprotected it. */
        private void fault(long page, int i, long bit) {
            faults.increment();
            ExitCost.pay(exitCostNs);
            long old = (long) WORDS.getAndBitwiseOr(w, i, bit);
            tlbWord = old | bit;
            if ((old & bit) != 0) {
                return; // another vCPU's fault unprotected it a moment ago: its ring has the entry
            }
            long p = (long) PUSHED.get(this);
            gfns[(int) p & mask] = page;
            PUSHED.setRelease(this, p + 1);
            if (p + 1 - reset >= softLimit) {
                ringFull();
            }
        }

        /** KVM_EXIT_DIRTY_RING_FULL, handled on this vCPU's thread: reap into the bitmap and reset. */
        private void ringFull() {
            fullExits.increment();
            ExitCost.pay(exitCostNs);
            synchronized (this) {
                long end = (long) PUSHED.get(this);
                for (long e = reset; e < end; e++) {
                    long page = gfns[(int) e & mask];
                    // An unconditional atomic OR, not set()'s read-then-skip: ordered against the
                    // sync's atomic take of the word, so a store before this exit is visible to
                    // the sync that takes the page.
                    reaped.orWord((int) (page >>> 6), 1L << page);
                    protect(page);
                }
                reset = end;
                anyReaped = true;
            }
            tlbIndex = -1;
        }

        /**
         * Step (2) of a sync for this ring: harvest in order and reset. Returns the entries reset (each
         * re-protected a page, so a shootdown must follow); adds to {@code added} the pages newly set
         * in the target, as QEMU counts a sync's new dirty pages: a page re-protected by an earlier ring
         * of this sync may fault again and come back in a later ring, or wait in the reaped bitmap.
         */
        synchronized long harvestAndReset(DirtyBitmap target, long[] added) {
            long end = (long) PUSHED.getAcquire(this);
            long from = reset;
            for (long e = from; e < end; e++) {
                long page = gfns[(int) e & mask];
                if (!target.test(page)) {
                    target.set(page);
                    added[0]++;
                }
                protect(page);
            }
            reset = end;
            return end - from;
        }

        void flushTlb() {
            tlbIndex = -1;
        }

        synchronized void clear() {
            PUSHED.setVolatile(this, 0L);
            reset = 0;
            tlbIndex = -1;
        }
    }
}
