package io.godwit.dirty.wp.internal;

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
 * Write-protect dirty tracking, KVM's mechanism without PML (legacy KVM_GET_DIRTY_LOG semantics:
 * get, clear and re-protect in one call), simulated on the CPU path.
 *
 * <h2>Mechanism</h2>
 * <ul>
 *   <li>Each guest page has an EPT <b>write permission</b> and a <b>dirty mark</b>. Both live in the
 *       same 64-bit word (32 pages per word: permissions in the low half, marks in the high half), so
 *       one atomic operation changes both. Logging starts with every page write-protected and clean.
 *       Each vCPU caches the last word it read, as a TLB caches a permission, and trusts only the
 *       cached "writable" bits. A store to a writable page costs the hook one compare, or one plain
 *       read when the cache misses. The cached writable bits are also the hook's
 *       {@linkplain WriteHook#onWriteCacheable answer}, so the kernel stores to those pages without
 *       calling the hook until the next shootdown, like a TLB entry that grants write access.</li>
 *   <li>The first store to a protected page takes a <b>write fault</b> (an EPT violation exit): the vCPU
 *       pays one {@link ExitCost exit}, then makes the page writable and marks it dirty in one atomic
 *       OR. So a pass costs one exit per page first written in it.</li>
 *   <li><b>Sync</b>: (1) per word, one compare-and-set takes the dirty marks and write-protects exactly
 *       those pages again; the marks are ORed into the target; (2) a TLB shootdown: kick every vCPU
 *       through the rendezvous, which drops its cached word (skipped when nothing was re-protected:
 *       then no cached "writable" bit can be stale), then return.</li>
 * </ul>
 *
 * <h2>Why no store is lost, although our hook runs after the store</h2>
 * In hardware the fault comes before the store: a store to a protected page cannot complete until the
 * page is dirty. Here the guest's store has already reached memory when the hook looks at the
 * permission, so the argument is about orders, not blocking. The contract: a store S to page p whose
 * hook H (on vCPU A) has returned before sync k returns is in harvest k or k+1.
 * <ol>
 *   <li><b>Invariant: a writable page is marked.</b> Only a fault makes p writable, and it marks p in
 *       the same atomic write; only a harvest clears the mark, and it write-protects p in the same
 *       atomic write. So every value of p's word that says "writable" also says "marked". (With a
 *       separate permission array and bitmap, either order breaks something: "mark, then unprotect"
 *       lets a harvest take the mark and re-protect between the two, leaving p writable and clean for
 *       good; "unprotect, then mark" lets a vCPU preempted between the two delay the mark past the
 *       next harvest while other vCPUs store to p without faulting. Re-protecting before taking has
 *       the first problem again.)</li>
 *   <li><b>H sees p protected</b>: the fault marks p after S has reached memory; the first harvest
 *       whose compare-and-set comes after the mark takes it: k's, or else k+1's.</li>
 *   <li><b>H sees p writable</b>, in the shared word or in A's cached copy (read by A since its last
 *       shootdown; "the value H read" below is that read's). A store the kernel made without calling
 *       the hook, inside the window a cached copy answered, is this case: the kernel drops the window
 *       at each shootdown, as A drops its copy. The value H read also has p marked (1).
 *       The first harvest j whose
 *       compare-and-set on p's word comes after that value takes the mark: j = k, or j = k+1 when k's
 *       had already happened. S must be visible to the migration thread's read of p after sync j.
 *       If H ran before A passed j's shootdown, S happens-before sync j's return (the rendezvous hands
 *       over through the VM lock and a latch). H cannot have run after A passed j's shootdown: the
 *       shootdown dropped A's cached word, so H's read would happen-after j's compare-and-set, and the
 *       value it read would not come before it. This is what the shootdown is for. Without it, a vCPU
 *       could complete a store on a stale writable permission after the harvest (a cached one, or
 *       S's plain store and H's plain read passing the re-protection and the page's read), and S
 *       would be in no harvest.</li>
 * </ol>
 * No page is reported without a store: each mark comes with a fault, and each fault with a store to a
 * page protected since its previous harvest. A parked vCPU is not kicked: the rendezvous runs its
 * (empty) shootdown action on the migration thread under the VM lock.
 *
 * <p>The exit cost ({@value ExitCost#PROPERTY}) is read when a VM is created.
 */
@Component(name = "godwit.dirty.wp", property = DirtyTracker.NAME + "=" + WpTracker.NAME)
public class WpTracker implements DirtyTracker {

    static final String NAME = "wp";

    private volatile long exitCostNs;

    /** For plain Java (tests, benchmarks): the exit cost from the system property, default 0. */
    public WpTracker() {
        this(ExitCost.fromSystem());
    }

    public WpTracker(long exitCostNs) {
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
        return "write protection: every page read-only after each harvest, one exit per page first written;"
                + " sync re-protects and shoots down TLBs";
    }

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    /** The tracker's state for one VM. */
    static final class Log implements DirtyLog {
        private final long pages;
        private final long exitCostNs;
        /** Per 32 pages: bit i = page i writable, bit 32+i = page i dirty. Atomic per word. */
        private final long[] state;
        private final Vcpu[] vcpus;
        private final Kicks kicks;
        private final LongAdder faults = new LongAdder();
        private final SyncTimes syncTimes = new SyncTimes();

        Log(long pages, int vcpuCount, long exitCostNs) {
            if (pages < 0 || (pages + 31) / 32 > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("too many pages: " + pages);
            }
            this.pages = pages;
            this.exitCostNs = exitCostNs;
            this.state = new long[(int) ((pages + 31) >>> 5)];
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

        /**
         * One vCPU's hook, with a one-entry TLB: the permission word it last read (low half: writable
         * bits). Only a cached <em>writable</em> bit is trusted; the shootdown drops the entry.
         */
        final class Vcpu implements WriteHook {
            private final long[] s = state;
            private int tlbIndex = -1; // -1: no entry
            private long tlbWord;

            @Override
            public void onWrite(long page) {
                int w = (int) (page >>> 5);
                long bit = 1L << (page & 31);
                if (w == tlbIndex && (tlbWord & bit) != 0) {
                    return; // writable, as cached
                }
                long v = (long) WORDS.getOpaque(s, w);
                tlbIndex = w;
                tlbWord = v;
                if ((v & bit) != 0) {
                    return; // writable
                }
                fault(w, bit);
            }

            /**
             * The writable bits this vCPU has cached for {@code page}'s word after the store, placed in
             * its group of 64: the kernel may skip the hook for those pages until the next shootdown.
             */
            @Override
            public long onWriteCacheable(long page) {
                onWrite(page);
                long writable = tlbWord & 0xffff_ffffL; // onWrite always leaves page's word cached
                return writable << (page & 32);
            }

            /** The EPT violation on a protected page: unprotect and mark dirty, in one atomic write. */
            private void fault(int w, long bit) {
                faults.increment();
                ExitCost.pay(exitCostNs);
                tlbWord = (long) WORDS.getAndBitwiseOr(s, w, bit | (bit << 32)) | bit;
            }

            /** The TLB shootdown's effect on this vCPU. */
            void flushTlb() {
                tlbIndex = -1;
            }
        }

        /** Logging on: every page write-protected and clean. No hook is installed yet. */
        @Override
        public void start(VcpuRendezvous rendezvous) {
            clear();
        }

        private void clear() {
            for (int w = 0; w < state.length; w++) {
                WORDS.setVolatile(state, w, 0L);
            }
            for (Vcpu v : vcpus) {
                v.flushTlb();
            }
        }

        @Override
        public long sync(DirtyBitmap target, VcpuRendezvous rendezvous) throws InterruptedException {
            if (target.pages() != pages) {
                throw new IllegalArgumentException("target bitmap has " + target.pages() + " pages, not " + pages);
            }
            long t0 = System.nanoTime();
            long n = 0;
            for (int w = 0; w < state.length; w++) {
                long v = (long) WORDS.getVolatile(state, w);
                long marks;
                while ((marks = v >>> 32) != 0) {
                    // Take the marks and re-protect exactly those pages, in one atomic write.
                    long witness = (long) WORDS.compareAndExchange(state, w, v, v & ~(marks << 32) & ~marks);
                    if (witness == v) {
                        target.orWord(w >>> 1, marks << ((w & 1) << 5));
                        n += Long.bitCount(marks);
                        break;
                    }
                    v = witness;
                }
            }
            if (n > 0) {
                kicks.onEachVcpu(rendezvous, i -> vcpus[i].flushTlb()); // TLB shootdown
            }
            syncTimes.record(t0, n);
            return n;
        }

        /** Logging off; the kernel has removed the hooks. */
        @Override
        public void stop() {
            clear();
        }

        @Override
        public Map<String, Long> stats() {
            Map<String, Long> m = new LinkedHashMap<>();
            long f = faults.sum();
            long k = kicks.count();
            m.put("exits", f + k);
            m.put("write-faults", f);
            m.put("kicks", k);
            syncTimes.putInto(m);
            m.put("exit-cost-ns", exitCostNs);
            return m;
        }
    }
}
