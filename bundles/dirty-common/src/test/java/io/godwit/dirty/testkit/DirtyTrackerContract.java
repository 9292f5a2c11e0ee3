package io.godwit.dirty.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The tracker test kit: what every {@link DirtyTracker} must do, from the {@link DirtyLog} contract
 * ("a store that completes before a sync returns is in that sync's harvest or in the next one; a page
 * nobody stored to since the previous harvest is not reported") to a live migration that passes the
 * sweep oracle.
 *
 * <p>A tracker's test extends this class and says how to make the tracker and its name:
 * <pre>{@code
 * class MyTrackerContractTest extends DirtyTrackerContract {
 *     protected DirtyTracker tracker() { return new MyTracker(); }
 *     protected String name() { return "mine"; }
 * }
 * }</pre>
 * It needs, at test scope: {@code godwit-dirty-common} (type {@code test-jar}), {@code godwit-kernel},
 * {@code godwit-cpu-synthetic}, {@code godwit-coordinator}, {@code slf4j-api}, {@code slf4j-simple} and
 * JUnit 5. Everything runs on a plain class path in one JVM: the kernel's {@code VmManagerImpl} and the
 * coordinator are wired by hand, as SCR would wire them.
 *
 * <p>Two levels:
 * <ul>
 *   <li>Tracker level, with {@link KitVcpus} as the vCPUs: exact harvests, and many vCPUs storing
 *       while syncs repeat, where every store is checked against the window the contract allows and
 *       every reported page against the stores that could explain it.</li>
 *   <li>VM level, in the kernel with the synthetic CPU: the sweep guest's pages harvest after harvest,
 *       nothing from a stopped guest, and a live migration between two VMs over a unix socket that
 *       iterates at least three passes and passes the sweep oracle on the destination.</li>
 * </ul>
 */
@Timeout(180)
public abstract class DirtyTrackerContract {

    /** A new instance of the tracker under test. */
    protected abstract DirtyTracker tracker();

    /** The name it registers under ({@link DirtyTracker#NAME}). */
    protected abstract String name();

    private static final AtomicInteger SEQ = new AtomicInteger();

    private VmManagerImpl vms;
    private Coordinator coordinator;

    @BeforeEach
    void host() {
        vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(tracker(), Map.of(DirtyTracker.NAME, name()));
    }

    @AfterEach
    void closeHost() throws Exception {
        if (coordinator != null) {
            coordinator.deactivate();
        }
        vms.deactivate();
    }

    /** The host's VM manager, with the synthetic CPU and the tracker under test installed. */
    protected VmManagerImpl vms() {
        return vms;
    }

    /** Guest RAM for tracker-level tests: a paused idle VM's, mapped but never touched. */
    protected GuestMemory memory(long bytes) {
        Vm vm = vms.create(VmSpec.builder("kit-mem-" + SEQ.incrementAndGet()).memory(bytes).paused(true)
                .workload("idle").dirtyTracker(name()).build());
        return vm.memory();
    }

    // ---------------------------------------------------------------------------------------------
    // Tracker level

    @Test
    void describesItself() {
        String d = tracker().description();
        assertTrue(d != null && !d.isBlank(), "description");
    }

    @Test
    void reportsExactlyThePagesStoredToAndNothingElse() throws Exception {
        GuestMemory mem = memory(64 << 20);
        long pages = mem.pages();
        int n = 4;
        DirtyLog log = tracker().create(mem, n);
        try (KitVcpus vcpus = new KitVcpus(n, "kit-exact")) {
            log.start(vcpus);
            vcpus.install(log);
            expectHarvest(log, vcpus, pages, new BitSet(), "logging just started, nothing stored");
            SplittableRandom rnd = new SplittableRandom(42);
            long[][] previous = new long[n][];
            for (int round = 0; round < 7; round++) {
                BitSet expected = new BitSet();
                for (int v = 0; v < n; v++) {
                    long[] ps = pagesFor(rnd, pages, round, v, previous[v]);
                    previous[v] = ps;
                    for (long p : ps) {
                        expected.set((int) p);
                    }
                    vcpus.on(v, hook -> {
                        for (long p : ps) {
                            hook.onWrite(p);
                        }
                        for (long p : ps) {
                            hook.onWrite(p); // a page stored to again before the harvest is one page
                        }
                    });
                }
                expectHarvest(log, vcpus, pages, expected, "round " + round);
                expectHarvest(log, vcpus, pages, new BitSet(), "round " + round + ", nothing stored since the harvest");
            }
            vcpus.uninstall();
            log.stop();

            log.start(vcpus);
            vcpus.install(log);
            expectHarvest(log, vcpus, pages, new BitSet(), "logging restarted, nothing stored");
            vcpus.on(1, hook -> hook.onWrite(pages - 1));
            BitSet last = new BitSet();
            last.set((int) (pages - 1));
            expectHarvest(log, vcpus, pages, last, "after a restart");
            vcpus.uninstall();
            log.stop();
        }
    }

    /** The pages vCPU {@code v} stores to in round {@code round}: shapes that stress each mechanism. */
    private static long[] pagesFor(SplittableRandom rnd, long pages, int round, int v, long[] previous) {
        return switch (round) {
            case 0 -> v == 0 ? new long[] {0} : new long[0]; // one page, one vCPU
            case 1 -> range(1000L * v + 3, 700); // more than one 512-entry PML log, across words
            case 2 -> rnd.longs(2000, 0, pages).toArray(); // random, overlapping between vCPUs
            case 3 -> previous; // the very pages of the previous harvest, stored to again
            case 4 -> range(5000, 600); // every vCPU the same pages
            case 5 -> Arrays.stream(range(0, (int) (pages / 64 / 4))).map(x -> ((x * 4 + v) * 64 + 63) % pages)
                    .toArray(); // one page in every 64-page word, the word's last bit
            default -> new long[] {pages - 1, pages - 2, 64L * v + 63};
        };
    }

    private static long[] range(long from, int count) {
        long[] a = new long[count];
        for (int i = 0; i < count; i++) {
            a[i] = from + i;
        }
        return a;
    }

    @Test
    void aStoreAfterAHarvestIsInTheNextHarvest() throws Exception {
        GuestMemory mem = memory(16 << 20);
        long pages = mem.pages();
        int n = 3;
        DirtyLog log = tracker().create(mem, n);
        try (KitVcpus vcpus = new KitVcpus(n, "kit-next")) {
            log.start(vcpus);
            vcpus.install(log);
            for (int round = 0; round < 300; round++) {
                long p = (round * 7919L) % pages;
                BitSet one = new BitSet();
                one.set((int) p);
                vcpus.on(round % n, hook -> hook.onWrite(p));
                expectHarvest(log, vcpus, pages, one, "round " + round + ", first store");
                vcpus.on((round + 1) % n, hook -> hook.onWrite(p)); // the same page, right after its harvest
                expectHarvest(log, vcpus, pages, one, "round " + round + ", store after the harvest");
                // The first vCPU again: what it read of p's word (and cached) before two harvests is stale.
                vcpus.on(round % n, hook -> hook.onWrite(p));
                expectHarvest(log, vcpus, pages, one, "round " + round + ", the first vCPU's store after two harvests");
            }
            vcpus.uninstall();
            log.stop();
        }
    }

    /**
     * A migration bitmap may still hold a page when the next sync harvests it again (a pass cut
     * short puts unsent pages back). The tracker must re-arm that page all the same: the same vCPU's
     * next store to it is in a later harvest.
     */
    @Test
    void aPageAlreadyInTheTargetIsReArmedAllTheSame() throws Exception {
        GuestMemory mem = memory(16 << 20);
        long pages = mem.pages();
        DirtyLog log = tracker().create(mem, 2);
        try (KitVcpus vcpus = new KitVcpus(2, "kit-full")) {
            log.start(vcpus);
            vcpus.install(log);
            for (int round = 0; round < 50; round++) {
                long p = (round * 7919L) % pages;
                vcpus.on(0, hook -> hook.onWrite(p));
                DirtyBitmap pending = new DirtyBitmap(pages);
                pending.set(p); // not sent yet from an earlier harvest
                log.sync(pending, vcpus);
                assertTrue(pending.test(p), "round " + round + ": the page stays in the target");
                vcpus.on(0, hook -> hook.onWrite(p)); // the same vCPU, the same page, after the sync
                BitSet one = new BitSet();
                one.set((int) p);
                expectHarvest(log, vcpus, pages, one, "round " + round + ", store after a sync into a full target");
            }
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void manyVcpusStoringWhileSyncsRepeat() throws Exception {
        int n = 8;
        GuestMemory mem = memory(64 << 20);
        int pages = (int) mem.pages();
        int hot = 256; // stored to by every vCPU: same words, same pages, races on the same bits
        int perVcpu = 150_000;
        DirtyLog log = tracker().create(mem, n);
        AtomicLong completed = new AtomicLong(); // syncs returned so far
        int[][] page = new int[n][perVcpu];
        int[][] before = new int[n][perVcpu];
        int[][] after = new int[n][perVcpu];
        int[] count = new int[n];
        SplittableRandom[] rnd = new SplittableRandom[n];
        for (int v = 0; v < n; v++) {
            rnd[v] = new SplittableRandom(1000 + v);
        }
        List<DirtyBitmap> harvests = new ArrayList<>();
        harvests.add(null); // harvest j is harvests.get(j), j from 1
        try (KitVcpus vcpus = new KitVcpus(n, "kit-many")) {
            log.start(vcpus);
            vcpus.install(log);
            vcpus.run((v, hook) -> {
                int c = count[v];
                for (int k = 0; k < 64 && c < perVcpu; k++, c++) {
                    int p = rnd[v].nextInt(4) == 0
                            ? rnd[v].nextInt(hot)
                            : hot + v + n * rnd[v].nextInt((pages - hot) / n); // this vCPU's own pages
                    int b = (int) completed.get();
                    hook.onWrite(p);
                    page[v][c] = p;
                    before[v][c] = b;
                    after[v][c] = (int) completed.get();
                }
                count[v] = c;
            }, 200_000);
            long end = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < end && harvests.size() <= 20_000) {
                harvests.add(syncOnce(log, vcpus, pages));
                completed.incrementAndGet();
                LockSupport.parkNanos(50_000); // a tracker that syncs without kicking would sync 100k times
            }
            vcpus.park();
            for (int i = 0; i < 2; i++) { // every store's window now ends at a sync that happened
                harvests.add(syncOnce(log, vcpus, pages));
                completed.incrementAndGet();
            }
            vcpus.uninstall();
            log.stop();
        }
        int syncs = harvests.size() - 1;
        long writes = Arrays.stream(count).asLongStream().sum();
        assertTrue(syncs >= 20, "only " + syncs + " syncs in 1.5 s");
        assertTrue(writes >= 20_000, "only " + writes + " stores in 1.5 s");
        System.out.printf("%s: checking %d stores by %d vCPUs against %d harvests%n", name(), writes, n,
                syncs);
        checkWindows(pages, n, page, before, after, count, harvests);
    }

    private static DirtyBitmap syncOnce(DirtyLog log, KitVcpus vcpus, int pages) throws InterruptedException {
        DirtyBitmap t = new DirtyBitmap(pages);
        long got = log.sync(t, vcpus);
        assertEquals(t.count(), got, "sync's return value is the number of pages it harvested");
        return t;
    }

    /**
     * A store whose hook started after sync {@code b} returned and ended before sync {@code a+1}
     * returned must be in a harvest j with b < j <= a+2; every reported page must have such a store.
     */
    private static void checkWindows(int pages, int n, int[][] page, int[][] before, int[][] after, int[] count,
            List<DirtyBitmap> harvests) {
        int syncs = harvests.size() - 1;
        int total = Arrays.stream(count).sum();
        long[] keys = new long[total];
        int k = 0;
        for (int v = 0; v < n; v++) {
            for (int i = 0; i < count[v]; i++) {
                long lo = before[v][i] + 1L;
                long hi = Math.min(after[v][i] + 2L, syncs);
                keys[k++] = ((long) page[v][i] << 42) | (lo << 21) | hi;
            }
        }
        Arrays.sort(keys);
        long lost = 0;
        List<String> examples = new ArrayList<>();
        // Per page: the union of its stores' windows, as sorted disjoint intervals.
        int[] start = new int[pages + 1];
        List<long[]> merged = new ArrayList<>();
        int cur = 0;
        for (int p = 0; p < pages; p++) {
            start[p] = merged.size();
            long mlo = -1;
            long mhi = -1;
            while (cur < total && (int) (keys[cur] >>> 42) == p) {
                long lo = (keys[cur] >>> 21) & 0x1f_ffffL;
                long hi = keys[cur] & 0x1f_ffffL;
                cur++;
                boolean found = false;
                for (long j = lo; j <= hi && !found; j++) {
                    found = harvests.get((int) j).test(p);
                }
                if (!found) {
                    lost++;
                    if (examples.size() < 5) {
                        examples.add("page " + p + " stored to between syncs " + (lo - 1) + " and "
                                + (hi >= syncs ? "the end" : String.valueOf(hi - 1)) + ", in no harvest " + lo
                                + ".." + hi);
                    }
                }
                if (lo > mhi + 1) {
                    if (mlo >= 0) {
                        merged.add(new long[] {mlo, mhi});
                    }
                    mlo = lo;
                    mhi = hi;
                } else {
                    mhi = Math.max(mhi, hi);
                }
            }
            if (mlo >= 0) {
                merged.add(new long[] {mlo, mhi});
            }
        }
        start[pages] = merged.size();
        if (lost > 0) {
            fail(lost + " of " + total + " stores lost over " + syncs + " syncs: " + examples);
        }
        long unexplained = 0;
        for (int j = 1; j <= syncs && unexplained < 1000; j++) {
            DirtyBitmap h = harvests.get(j);
            for (long p = h.nextSetBit(0); p >= 0 && unexplained < 1000; p = h.nextSetBit(p + 1)) {
                // The last merged window of p starting at or before j must reach j.
                int lo = start[(int) p];
                int hi = start[(int) p + 1] - 1;
                while (lo < hi) {
                    int mid = (lo + hi + 1) >>> 1;
                    if (merged.get(mid)[0] <= j) {
                        lo = mid;
                    } else {
                        hi = mid - 1;
                    }
                }
                boolean ok = lo < start[(int) p + 1] && merged.get(lo)[0] <= j && j <= merged.get(lo)[1];
                if (!ok) {
                    unexplained++;
                    if (examples.size() < 5) {
                        examples.add("page " + p + " in harvest " + j + " without a store that could explain it");
                    }
                }
            }
        }
        if (unexplained > 0) {
            fail((unexplained >= 1000 ? "at least " : "") + unexplained
                    + " pages reported without a store since their previous harvest: " + examples);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // VM level: the kernel with the synthetic CPU

    private VmSpec.Builder spec(String vm, long memory, int vcpus, String workload) {
        return VmSpec.builder(vm).memory(memory).vcpus(vcpus).workload(workload).dirtyTracker(name());
    }

    @Test
    void theSweepsPagesAreInEveryHarvestAndAStoppedGuestDirtiesNothing() throws Exception {
        int n = 4;
        Vm vm = vms.create(spec("kit-sweep", 16 << 20, n, "sweep:1M").build()); // 256 pages, 64 per vCPU
        DirtyLogging log = vm.dirtyLogging();
        assertEquals(name(), log.trackerName());
        long pages = vm.memory().pages();
        log.start();
        long end = System.nanoTime() + 2_000_000_000L;
        int rounds = 0;
        while (rounds < 10 || (rounds < 100 && System.nanoTime() < end)) {
            log.sync(new DirtyBitmap(pages));
            awaitFullQuantumAfterNow(vm); // each vCPU: at least one pass over its 64 pages after the harvest
            DirtyBitmap next = new DirtyBitmap(pages);
            long got = log.sync(next);
            assertEquals(256, next.count(0, 256), "round " + rounds + ": the sweep's pages");
            assertEquals(256, next.count(), "round " + rounds + ": pages outside the sweep's range");
            assertTrue(got >= 256, "round " + rounds + ": sync returned " + got);
            rounds++;
        }
        vm.stop(RunState.PAUSED);
        log.sync(new DirtyBitmap(pages)); // what the last quanta stored
        DirtyBitmap after = new DirtyBitmap(pages);
        assertEquals(0, log.sync(after), "a stopped guest dirties nothing");
        assertEquals(0, after.count(), "a stopped guest dirties nothing");
        vm.cont();
        awaitFullQuantumAfterNow(vm);
        DirtyBitmap resumed = new DirtyBitmap(pages);
        log.sync(resumed);
        assertEquals(256, resumed.count(), "the guest resumed, logging went on");
        Map<String, Long> stats = log.stats();
        for (Map.Entry<String, Long> e : stats.entrySet()) {
            assertTrue(e.getKey().matches("[a-z0-9]+(-[a-z0-9]+)*"), "stat name not in kebab case: " + e.getKey());
            assertTrue(e.getValue() != null && e.getValue() >= 0, "stat " + e.getKey() + " = " + e.getValue());
        }
        assertTrue(stats.get("sync-count") >= 2 * rounds, stats.toString());
        log.stop();
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().clean(), vm.check().toString());
    }

    /**
     * Waits until every vCPU has ended two more quanta: the second began after the first ended, which
     * was after this call, so it ran wholly after whatever the caller just did. A sweep quantum
     * stores at least 64 pages in order, a full pass over a 64-page range.
     */
    private static void awaitFullQuantumAfterNow(Vm vm) throws InterruptedException {
        List<VcpuInfo> cpus = vm.cpus();
        int n = cpus.size();
        long[] last = new long[n];
        int[] changes = new int[n];
        for (int i = 0; i < n; i++) {
            last[i] = cpus.get(i).progress();
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (Arrays.stream(changes).anyMatch(c -> c < 2)) {
            if (System.nanoTime() > deadline) {
                fail("the vCPUs made no progress in 10 s: " + vm.cpus());
            }
            Thread.sleep(1);
            cpus = vm.cpus();
            for (int i = 0; i < n; i++) {
                long p = cpus.get(i).progress();
                if (p != last[i]) {
                    last[i] = p;
                    changes[i]++;
                }
            }
        }
    }

    @Test
    void aLiveMigrationPassesTheSweepOracle() throws Exception {
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new io.godwit.coordinator.internal.UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        Path dir = Files.createTempDirectory("godwit-kit");
        String workload = "sweep:32M,rate=50000"; // a known dirty rate, not the host's speed
        Vm src = vms.create(spec("src", 128 << 20, 2, workload).build());
        vms.create(spec("dst", 128 << 20, 2, workload).incoming("defer").build());
        String sock = dir.resolve("m.sock").toString();
        try {
            coordinator.incoming("dst", "unix:" + sock);
            // QEMU's trick: a tiny bandwidth and downtime limit keep it iterating; then lift them.
            coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
            coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
            coordinator.migrate("src", "unix:" + sock);
            long deadline = System.currentTimeMillis() + 30_000;
            while (coordinator.info("src").ram().dirtySyncCount() < 3 && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
            coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
            MigrationInfo out = await("src", 60_000);
            MigrationInfo in = await("dst", 10_000);
            assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
            assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
            assertTrue(out.ram().dirtySyncCount() >= 3, "passes: " + out.ram().dirtySyncCount());
            assertFalse(src.dirtyLogging().active(), "logging is off after the migration");
            Vm dst = vms.get("dst").orElseThrow();
            assertEquals(RunState.RUNNING, dst.state());
            Thread.sleep(200); // the destination goes on sweeping from where the source stopped
            dst.stop(RunState.PAUSED);
            var verdict = dst.check();
            assertTrue(verdict.clean(), verdict.toString());
        } finally {
            Files.deleteIfExists(Path.of(sock));
            Files.deleteIfExists(dir);
        }
    }

    private MigrationInfo await(String vm, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    // ---------------------------------------------------------------------------------------------

    private static void expectHarvest(DirtyLog log, KitVcpus vcpus, long pages, BitSet expected, String when)
            throws InterruptedException {
        DirtyBitmap target = new DirtyBitmap(pages);
        long got = log.sync(target, vcpus);
        BitSet actual = new BitSet();
        for (long p = target.nextSetBit(0); p >= 0; p = target.nextSetBit(p + 1)) {
            actual.set((int) p);
        }
        if (!expected.equals(actual)) {
            BitSet missing = (BitSet) expected.clone();
            missing.andNot(actual);
            BitSet extra = (BitSet) actual.clone();
            extra.andNot(expected);
            fail(when + ": " + missing.cardinality() + " pages stored to but not reported (first "
                    + first(missing) + "), " + extra.cardinality() + " reported but clean (first " + first(extra) + ")");
        }
        assertEquals(expected.cardinality(), got, when + ": sync's return value");
    }

    private static String first(BitSet s) {
        return s.stream().limit(5).mapToObj(Integer::toString).toList().toString();
    }
}
