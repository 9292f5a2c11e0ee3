package io.godwit.dirty.pml.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import io.godwit.api.memory.GuestMemory;
import io.godwit.dirty.common.internal.ExitCost;
import io.godwit.dirty.common.internal.Kicks;
import io.godwit.dirty.common.internal.SyncTimes;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;

/**
 * Intel PML as KVM uses it (Kai Huang's 2015 series; Intel SDM "Page-Modification Logging"), simulated
 * on the CPU path.
 *
 * <h2>Mechanism</h2>
 * <ul>
 *   <li>One EPT <b>dirty (D) bit per guest page</b>, shared by all vCPUs (one EPT per VM). Each vCPU
 *       caches the last 64-bit word of D bits it read, as a TLB caches the D flag; the cache is
 *       dropped at every kick. A store to a page whose D bit is set costs the hook one compare, or one
 *       plain read when the cache misses, and nothing else. The cached word is also the hook's
 *       {@linkplain WriteHook#onWriteCacheable answer}: the kernel stores to those pages without calling
 *       the hook at all until the next kick, as a TLB entry with D set costs a store nothing.</li>
 *   <li>One <b>512-entry PML log per vCPU</b> with the PML index counting down from 511. When a store
 *       is about to set a D bit from 0 to 1, the page number is written at the index and the index
 *       decremented.</li>
 *   <li>When the index has left 0..511 (the log is full), the store first takes a <b>PML-full exit</b>:
 *       the vCPU pays one {@link ExitCost exit}, flushes its whole log into the VM's dirty bitmap
 *       (KVM's {@code vmx_flush_pml_buffer} into the memslot bitmap) and resets the index to 511; then
 *       the D bit is set and the page logged. So a pass that first-dirties N pages costs about N/512
 *       exits.</li>
 *   <li><b>Sync</b> (KVM_GET_DIRTY_LOG then KVM_CLEAR_DIRTY_LOG): (1) kick every vCPU, which flushes
 *       its log into the bitmap on its own thread (KVM flushes the PML buffer at every exit, so
 *       GET_DIRTY_LOG only has to kick); (2) per bitmap word: atomically take and clear the harvested
 *       bits, OR them into the target, then clear their D bits; (3) if any D bit was cleared, kick
 *       every vCPU again (the remote TLB flush KVM does after clearing D bits: each vCPU drops its
 *       cached D bits), then return.</li>
 * </ul>
 *
 * <h2>Why no store is lost</h2>
 * Our hook runs after the store, on the vCPU thread, and a rendezvous action runs on that thread only
 * between two guest stores. Take a store S to page p that completes before sync k returns, and its hook
 * H on vCPU A.
 * <ul>
 *   <li>H found D(p) clear and logged p in A's log (the D bit is set with an atomic OR and only the vCPU
 *       that turned it from 0 to 1 logs, so p is logged once per clearing). If H ran before A's flush
 *       in step (1) of sync k, the entry is in the bitmap before k's harvest: p is in harvest k. If
 *       after, the entry waits in A's log (or reaches the bitmap at a PML-full exit, atomically per
 *       word against the harvest) until the next sync's step (1): p is in harvest k or k+1.</li>
 *   <li>H found D(p) set, in the shared word or in A's cached copy of it (which A read after its
 *       last kick; below, "H's read" is that read). A store the kernel made without calling the hook,
 *       inside the window a cached copy answered, is this case: it is as if H ran and found the
 *       cached bit, and the kernel drops that window at each kick, as A drops its copy. D(p) is set
 *       only together with a log entry for p that has not yet been harvested-and-cleared: a D bit is
 *       cleared in step (2) only after its page's bit was taken from the bitmap. If that entry is
 *       harvested in sync k or k+1, fine, provided the page's content read after that sync sees S. That is what step (3) is for: H either ran before A passed step (3) of
 *       the sync that cleared D(p), and then S happens-before the sync's return (the rendezvous hands
 *       over through the VM lock and a latch); or H ran after, and then A's cache was dropped there and
 *       H's read happens-after the clearing, so it could not have found D(p) set by the harvested
 *       entry. Without step (3), a stale cached D bit, or simply S's plain store and H's plain read of
 *       D(p) passing each other (store buffering, JIT reordering), would let S slip past the migration
 *       thread's clear of D(p) and later read of the page, and S would be lost.</li>
 * </ul>
 * Step (2) takes the bitmap bits before clearing D bits. A store between the two is covered by this
 * harvest (p is in it, and S is visible by step (3)). Clearing first would be wrong: a store between
 * clear and take would set D(p) again and log p, a PML-full exit could flush that entry into the
 * bitmap, and the take would consume it while D(p) stays set; p's later stores would then log nothing
 * and wait for a harvest that already happened.
 *
 * <p>A page is reported once per clearing of its D bit, so a page nobody stored to since the previous
 * harvest is not reported. A vCPU that is parked is not kicked: the rendezvous runs its flush on the
 * migration thread under the VM lock (no exit, no kick counted).
 *
 * <p>The exit cost ({@value ExitCost#PROPERTY}) is read when a VM is created; changing it affects VMs
 * created afterwards.
 */
@Component(name = "godwit.dirty.pml", property = DirtyTracker.NAME + "=" + PmlTracker.NAME)
public class PmlTracker implements DirtyTracker {

    static final String NAME = "pml";

    /** PML_ENTITY_NUM: entries in one vCPU's log (a 4 KiB page of 64-bit GPAs). */
    public static final int LOG_ENTRIES = 512;

    private volatile long exitCostNs;

    /** For plain Java (tests, benchmarks): the exit cost from the system property, default 0. */
    public PmlTracker() {
        this(ExitCost.fromSystem());
    }

    public PmlTracker(long exitCostNs) {
        this.exitCostNs = exitCostNs;
    }

    @Activate
    @Modified
    void activate(BundleContext context, Map<String, Object> properties) {
        exitCostNs = ExitCost.resolve(properties, context.getProperty(ExitCost.PROPERTY));
    }

    @Override
    public DirtyLog create(GuestMemory memory, int vcpus) {
        return new Log(memory.pages(), vcpus, exitCostNs);
    }

    @Override
    public String description() {
        return "Intel PML: EPT dirty bits, a 512-entry log per vCPU, one exit per 512 first-dirtied pages;"
                + " sync kicks the vCPUs, then clears D bits and flushes TLBs";
    }

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    /** The tracker's state for one VM. */
    static final class Log implements DirtyLog {
        private final long pages;
        private final long exitCostNs;
        /** The memslot dirty bitmap PML logs are flushed into. */
        private final DirtyBitmap bitmap;
        /** EPT D bits, one per page, atomic per word. */
        private final long[] dBits;
        private final Vcpu[] vcpus;
        private final Kicks kicks;
        private final LongAdder fullExits = new LongAdder();
        private final LongAdder logged = new LongAdder();
        private final SyncTimes syncTimes = new SyncTimes();

        Log(long pages, int vcpuCount, long exitCostNs) {
            this.pages = pages;
            this.exitCostNs = exitCostNs;
            this.bitmap = new DirtyBitmap(pages);
            this.dBits = new long[bitmap.wordCount()];
            this.kicks = new Kicks(exitCostNs);
            this.vcpus = new Vcpu[vcpuCount];
            for (int i = 0; i < vcpuCount; i++) {
                vcpus[i] = new Vcpu();
            }
        }

        @Override
        public WriteHook hook(int vcpu) {
            return vcpus[vcpu];
        }

        /** Logging on: every D bit clear, every log empty. No hook is installed yet. */
        @Override
        public void start(VcpuRendezvous rendezvous) {
            bitmap.clear();
            for (int w = 0; w < dBits.length; w++) {
                WORDS.setVolatile(dBits, w, 0L);
            }
            for (Vcpu v : vcpus) {
                v.reset();
            }
        }

        @Override
        public long sync(DirtyBitmap target, VcpuRendezvous rendezvous) throws InterruptedException {
            if (target.pages() != pages) {
                throw new IllegalArgumentException("target bitmap has " + target.pages() + " pages, not " + pages);
            }
            long t0 = System.nanoTime();
            // (1) GET_DIRTY_LOG: kick every vCPU out; each flushes its PML log on its own thread.
            kicks.onEachVcpu(rendezvous, i -> {
                vcpus[i].flush();
                vcpus[i].flushTlb();
            });
            // (2) Take the bitmap word by word and clear the D bits of what was taken, in that order.
            long n = 0;
            for (int w = 0; w < dBits.length; w++) {
                long bits = bitmap.harvestWord(w);
                if (bits != 0) {
                    target.orWord(w, bits);
                    WORDS.getAndBitwiseAnd(dBits, w, ~bits);
                    n += Long.bitCount(bits);
                }
            }
            // (3) Remote TLB flush: after this, no vCPU acts on a D bit it read before the clearing.
            if (n > 0) {
                kicks.onEachVcpu(rendezvous, i -> vcpus[i].flushTlb());
            }
            syncTimes.record(t0, n);
            return n;
        }

        /** Logging off; the kernel has removed the hooks. Entries still logged are dropped. */
        @Override
        public void stop() {
            bitmap.clear();
            for (Vcpu v : vcpus) {
                v.reset();
            }
        }

        @Override
        public Map<String, Long> stats() {
            Map<String, Long> m = new LinkedHashMap<>();
            long full = fullExits.sum();
            long k = kicks.count();
            m.put("exits", full + k);
            m.put("pml-full-exits", full);
            m.put("kicks", k);
            m.put("pages-logged", logged.sum());
            syncTimes.putInto(m);
            m.put("exit-cost-ns", exitCostNs);
            return m;
        }

        /**
         * One vCPU's PML log and its hook. The log and index are touched only on the vCPU's thread, or
         * on the migration thread while the vCPU is parked (the VM lock orders the two).
         */
        final class Vcpu implements WriteHook {
            private final long[] d = dBits;
            private final long[] entries = new long[LOG_ENTRIES];
            /** The PML index: the next entry to write, counting down; -1 means full. */
            private int index = LOG_ENTRIES - 1;
            /** A one-entry TLB: the D-bit word {@code tlbWord} of word index {@code tlbIndex} (-1: none). */
            private int tlbIndex = -1;
            private long tlbWord;

            @Override
            public void onWrite(long page) {
                int w = (int) (page >>> 6);
                long bit = 1L << page;
                if (w == tlbIndex && (tlbWord & bit) != 0) {
                    return; // D set, as cached: the hardware logs nothing
                }
                long v = (long) WORDS.getOpaque(d, w);
                tlbIndex = w;
                tlbWord = v;
                if ((v & bit) != 0) {
                    return;
                }
                firstDirty(page, w, bit);
            }

            /**
             * The D bits this vCPU has cached for {@code page}'s word after the store: the kernel may
             * skip the hook for those pages until the next kick, which is when this cache is dropped too.
             */
            @Override
            public long onWriteCacheable(long page) {
                onWrite(page);
                return tlbWord; // onWrite always leaves page's word cached
            }

            private void firstDirty(long page, int w, long bit) {
                if (index < 0) {
                    // Page-modification log-full: a VM exit before the access, D not yet set.
                    fullExits.increment();
                    ExitCost.pay(exitCostNs);
                    flush();
                }
                long old = (long) WORDS.getAndBitwiseOr(d, w, bit);
                tlbWord = old | bit;
                if ((old & bit) == 0) {
                    entries[index--] = page;
                }
            }

            /** Forgets the cached D bits: at every kick, so no cached bit outlives a clearing. */
            void flushTlb() {
                tlbIndex = -1;
            }

            /** Moves every logged entry into the VM's dirty bitmap and resets the index to 511. */
            void flush() {
                int n = LOG_ENTRIES - 1 - index;
                if (n == 0) {
                    return;
                }
                // Entries of a sequential writer share bitmap words: one atomic OR per word, not per page.
                int word = -1;
                long bits = 0;
                for (int e = index + 1; e < LOG_ENTRIES; e++) {
                    long p = entries[e];
                    int w = (int) (p >>> 6);
                    if (w != word) {
                        if (bits != 0) {
                            bitmap.orWord(word, bits);
                        }
                        word = w;
                        bits = 0;
                    }
                    bits |= 1L << p;
                }
                bitmap.orWord(word, bits);
                logged.add(n);
                index = LOG_ENTRIES - 1;
            }

            void reset() {
                index = LOG_ENTRIES - 1;
                tlbIndex = -1;
            }
        }
    }
}
