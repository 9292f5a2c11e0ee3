package io.godwit.benchmarks.dirty;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.vm.ByteSize;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.dirty.pml.internal.PmlTracker;
import io.godwit.dirty.ring.internal.RingTracker;
import io.godwit.dirty.wp.internal.WpTracker;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The three dirty trackers side by side, in one run:
 * <ol>
 *   <li><b>Guest write rate</b>, tracker on against off: the sweep guest's page stores per second per
 *       vCPU in alternating rounds of the same VM; the cost is 1 - the median over rounds of (on / the
 *       off round just before), which cancels the host's drift; "on" is what a migration does (logging on, a sync
 *       into a migration bitmap every {@code sync-ms}). With the exits, faults and kicks per second
 *       and the pages first dirtied per pass, so the exit count can be checked against the mechanism
 *       (PML: pages/512; write protection: one per page). Once per exit cost.</li>
 *   <li><b>Sync of {@code big-gib} GiB</b> at 0.1% and 100% dirty, tracker level, vCPUs parked: the
 *       tracker's own harvest and re-arm (what scales with guest RAM). Pages are dirtied through the
 *       tracker's hooks; no guest RAM is touched (the sync never reads it).</li>
 *   <li><b>Sync of a real {@code big-gib} GiB VM at 0.1%</b> with the sweep running on its vCPUs:
 *       {@code DirtyLogging.sync} (tracker plus the VMM's DMA log), kicks and TLB flushes included,
 *       which on a loaded host is what dominates.</li>
 * </ol>
 *
 * <p>Usage: {@code DirtyTrackerBench [key=value...]} with {@code costs=0,1000} (exit cost in ns per
 * setting), {@code mem=1024} (MiB), {@code range=1024M} (sweep range), {@code vcpus=2},
 * {@code rounds=6}, {@code round-ms=1000}, {@code sync-ms=100}, {@code big-gib=8}, {@code reps=15},
 * {@code sections=1,2,3}, {@code trackers=bitmap,pml,wp,ring}, {@code fork=true} (section 1: one JVM per
 * tracker).
 */
public final class DirtyTrackerBench {

    private final Map<String, String> args;
    private final List<String> trackers;

    private DirtyTrackerBench(Map<String, String> args) {
        this.args = args;
        this.trackers = List.of(args.getOrDefault("trackers", "bitmap,pml,wp,ring").split(","));
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                System.err.println("usage: DirtyTrackerBench [key=value...]; see the class comment");
                System.exit(2);
            }
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        new DirtyTrackerBench(a).run();
    }

    private String arg(String key, String dflt) {
        return args.getOrDefault(key, dflt);
    }

    private long num(String key, long dflt) {
        return Long.parseLong(arg(key, String.valueOf(dflt)));
    }

    private void run() throws Exception {
        String sections = arg("sections", "1,2,3");
        System.out.printf(Locale.ROOT, "Godwit dirty trackers: %s, %d CPUs, JDK %s%n", trackers,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        Map<String, Double> targets = new LinkedHashMap<>();
        if (sections.contains("1")) {
            for (String c : arg("costs", "0,1000").split(",")) {
                if (trackers.size() > 1 && !arg("fork", "true").equals("false")) {
                    forkPerTracker(c.strip(), targets);
                } else {
                    writeRate(Long.parseLong(c.strip()), targets);
                }
            }
        }
        if (sections.contains("2")) {
            trackerLevelSync();
        }
        if (sections.contains("3")) {
            runningVmSync(targets);
        }
        if (!targets.isEmpty() && !arg("fork", "true").equals("false")) {
            System.out.printf(Locale.ROOT, "%nTargets%n");
            Double cost = targets.get("pml-cost");
            if (cost != null) {
                System.out.printf(Locale.ROOT, "  PML costs %.1f%% of the guest write rate (exit cost 0): %s (target < 10%%)%n",
                        cost, cost < 10 ? "met" : "NOT met");
            }
            for (String t : trackers) {
                Double ms = targets.get("sync-" + t);
                if (ms != null) {
                    System.out.printf(Locale.ROOT, "  %-6s sync of %d GiB at 0.1%% dirty, running VM, median %.2f ms: %s (target < 5 ms)%n",
                            t, num("big-gib", 8), ms, ms < 5 ? "met" : "NOT met");
                }
            }
        }
    }

    private static VmManagerImpl host(long exitCostNs) {
        VmManagerImpl vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDirtyTracker(new PmlTracker(exitCostNs), Map.of(DirtyTracker.NAME, "pml"));
        vms.addDirtyTracker(new WpTracker(exitCostNs), Map.of(DirtyTracker.NAME, "wp"));
        vms.addDirtyTracker(new RingTracker(exitCostNs, RingTracker.DEFAULT_RING_SIZE),
                Map.of(DirtyTracker.NAME, "ring"));
        return vms;
    }

    // ---------------------------------------------------------------------------------------------
    // 1. Guest write rate

    /**
     * One round. {@code delta}: counters over the whole round (for rates). {@code between}: counters
     * from just after the first sync to just after the last, and {@code passHarvested} the pages the
     * syncs after the first harvested, over {@code passes} = syncs - 1: exits against pages per pass
     * without the pages dirtied after the last sync.
     */
    private record Round(double rate, double seconds, Map<String, Long> delta, List<Long> syncNanos,
            Map<String, Long> between, long passHarvested, int passes) {}

    /**
     * Section 1 with each tracker in a JVM of its own: in one JVM the kernel's single call site of the
     * hook would see the trackers' hook classes one after another and go megamorphic, so a tracker
     * measured later would pay a dispatch the first did not.
     */
    private void forkPerTracker(String cost, Map<String, Double> targets) throws Exception {
        boolean header = true;
        for (String t : trackers) {
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-cp", System.getProperty("java.class.path"), DirtyTrackerBench.class.getName()));
            args.forEach((k, v) -> {
                if (!List.of("sections", "trackers", "costs", "fork").contains(k)) {
                    cmd.add(k + "=" + v);
                }
            });
            cmd.addAll(List.of("sections=1", "trackers=" + t, "costs=" + cost, "fork=false",
                    "header=" + header));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("#target ")) {
                        String[] kv = line.substring(8).split("=");
                        targets.put(kv[0], Double.parseDouble(kv[1]));
                    } else if (!line.startsWith("Godwit dirty trackers:") && !line.isEmpty()) {
                        System.out.println(line);
                    }
                }
            }
            if (p.waitFor() != 0) {
                throw new IllegalStateException("the " + t + " run failed with status " + p.exitValue());
            }
            header = false;
        }
    }

    private void writeRate(long exitCostNs, Map<String, Double> targets) throws Exception {
        long mib = num("mem", 1024);
        String range = arg("range", "1024M");
        int vcpus = (int) num("vcpus", 2);
        int rounds = (int) num("rounds", 6);
        long roundMs = num("round-ms", 1000);
        long syncMs = num("sync-ms", 100);
        long rangePages = ByteSize.parse(range) >>> RamBlock.PAGE_SHIFT;
        if (arg("header", "true").equals("true")) {
            System.out.printf(Locale.ROOT, "%n1. Guest write rate, tracker on vs off: sweep over %s (%d pages) of %d MiB, %d vCPUs,"
                    + " %d rounds of %d ms each way, sync every %d ms, exit cost %d ns, one JVM per tracker%n", range,
                    rangePages, mib, vcpus, rounds, roundMs, syncMs, exitCostNs);
            System.out.printf(Locale.ROOT, "%-7s %14s %14s %8s %12s %12s %10s %12s %12s %12s%n", "tracker", "off pages/s",
                    "on pages/s", "cost", "exits/s", "full-exit/s", "faults/s", "kicks/s", "pages/pass", "exits/pass");
        }
        VmManagerImpl vms = host(exitCostNs);
        try {
            for (String t : trackers) {
                Vm vm = vms.create(VmSpec.builder("bench-" + t).memory(mib << 20).vcpus(vcpus).workload("sweep:" + range)
                        .dirtyTracker(t).build());
                awaitProgress(vm, rangePages * 2); // first touch of guest RAM is not what we measure
                // One unmeasured pair: until logging has been on once, the JIT has compiled the store
                // path without a hook, and the first "off" round runs faster than every later one.
                round(vm, roundMs, syncMs, false);
                round(vm, roundMs, syncMs, true);
                List<Double> off = new ArrayList<>();
                List<Double> on = new ArrayList<>();
                Map<String, Long> sum = new HashMap<>();
                Map<String, Long> between = new HashMap<>();
                double seconds = 0;
                long harvested = 0;
                long syncs = 0;
                List<Double> syncTimes = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    off.add(round(vm, roundMs, syncMs, false).rate());
                    Round x = round(vm, roundMs, syncMs, true);
                    on.add(x.rate());
                    x.delta().forEach((k, v) -> sum.merge(k, v, Long::sum));
                    x.between().forEach((k, v) -> between.merge(k, v, Long::sum));
                    x.syncNanos().forEach(ns -> syncTimes.add(ns / 1e6));
                    seconds += x.seconds();
                    harvested += x.passHarvested();
                    syncs += x.passes();
                }
                System.out.printf(Locale.ROOT, "        rounds, pages/s/vCPU: off %s%n                              on  %s%n", millions(off),
                        millions(on));
                double mOff = median(off);
                double mOn = median(on);
                List<Double> ratios = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    ratios.add(on.get(r) / off.get(r)); // each "on" round against the "off" round just before
                }
                double cost = (1 - median(ratios)) * 100;
                double perPass = syncs == 0 ? 0 : (double) harvested / syncs;
                long exits = between.getOrDefault("exits", 0L);
                System.out.printf(Locale.ROOT, "%-7s %,14.0f %,14.0f %7.1f%% %,12.0f %,12.0f %,10.0f %,12.0f %,12.0f %,12.1f%n", t, mOff,
                        mOn, cost, sum.getOrDefault("exits", 0L) / seconds, (sum.getOrDefault("pml-full-exits", 0L) + sum.getOrDefault("ring-full-exits", 0L)) / seconds,
                        sum.getOrDefault("write-faults", 0L) / seconds, sum.getOrDefault("kicks", 0L) / seconds,
                        perPass, syncs == 0 ? 0 : (double) exits / syncs);
                if (t.equals("pml") && exitCostNs == 0) {
                    targets.put("pml-cost", cost);
                    if (arg("fork", "true").equals("false")) {
                        System.out.printf(Locale.ROOT, "#target pml-cost=%f%n", cost);
                    }
                }
                if (!t.equals("bitmap")) {
                    String kind = t.equals("pml") ? "pml-full-exits" : "write-faults";
                    double measured = syncs == 0 ? 0 : (double) between.getOrDefault(kind, 0L) / syncs;
                    double expected = t.equals("pml") ? perPass / PmlTracker.LOG_ENTRIES : perPass;
                    String why = switch (t) {
                        case "pml" -> "pages first dirtied per pass / 512";
                        // A ring-full exit resets (re-protects) the pages it reaps, so a guest that
                        // writes a page again before the next sync faults again: KVM's ring does too.
                        case "ring" -> "at least one per page first written per pass; more for each ring-full reset";
                        default -> "one per page first written per pass";
                    };
                    System.out.printf(Locale.ROOT, "        %s per pass: %,.1f measured, %,.1f expected (%s)%n", kind, measured,
                            expected, why);
                }
                System.out.printf(Locale.ROOT, "        DirtyLogging.sync of %d MiB while the guest runs: median %.3f ms, max %.3f ms over %d syncs%n",
                        mib, median(syncTimes), syncTimes.stream().mapToDouble(Double::doubleValue).max().orElse(0), syncTimes.size());
                vm.stop(RunState.PAUSED);
                var verdict = vm.check();
                if (!verdict.clean()) {
                    System.out.println("ORACLE FAILED: " + verdict);
                    System.exit(1);
                }
                vms.destroy(vm.name());
            }
        } finally {
            vms.deactivate();
        }
    }

    private static Round round(Vm vm, long ms, long syncMs, boolean tracking) throws InterruptedException {
        DirtyLogging log = vm.dirtyLogging();
        DirtyBitmap migration = new DirtyBitmap(vm.memory().pages());
        List<Long> syncNanos = new ArrayList<>();
        long passHarvested = 0;
        Map<String, Long> first = Map.of();
        Map<String, Long> last = Map.of();
        if (tracking) {
            log.start();
        }
        Map<String, Long> s0 = log.stats();
        long p0 = progress(vm);
        long t0 = System.nanoTime();
        long end = t0 + ms * 1_000_000;
        while (System.nanoTime() < end) {
            Thread.sleep(syncMs);
            if (tracking) {
                long a = System.nanoTime();
                long n = log.sync(migration);
                syncNanos.add(System.nanoTime() - a);
                migration.clear();
                last = log.stats();
                if (syncNanos.size() == 1) {
                    first = last;
                } else {
                    passHarvested += n;
                }
            }
        }
        long p1 = progress(vm);
        long t1 = System.nanoTime();
        Map<String, Long> delta = new HashMap<>();
        Map<String, Long> between = new HashMap<>();
        if (tracking) {
            log.stats().forEach((k, v) -> delta.put(k, v - s0.getOrDefault(k, 0L)));
            Map<String, Long> f = first;
            last.forEach((k, v) -> between.put(k, v - f.getOrDefault(k, 0L)));
            log.stop();
        }
        double seconds = (t1 - t0) / 1e9;
        return new Round((p1 - p0) / seconds / vm.spec().vcpus(), seconds, delta, syncNanos, between, passHarvested,
                Math.max(0, syncNanos.size() - 1));
    }

    private static long progress(Vm vm) {
        return vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
    }

    private static void awaitProgress(Vm vm, long writes) throws InterruptedException {
        long start = progress(vm);
        while (progress(vm) - start < writes) {
            Thread.sleep(20);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // 2. Sync of a big VM at the tracker level

    private void trackerLevelSync() throws InterruptedException {
        long gib = num("big-gib", 8);
        int reps = (int) num("reps", 15);
        long pages = (gib << 30) >>> RamBlock.PAGE_SHIFT;
        GuestMemory ram = new SizeOnlyMemory(gib << 30);
        VcpuRendezvous parked = action -> { // the kernel's path for parked vCPUs: on the caller
            action.accept(0);
            action.accept(1);
        };
        System.out.printf(Locale.ROOT, "%n2. Sync of %d GiB (%,d pages), tracker level, 2 vCPUs parked, median of %d:%n", gib,
                pages, reps);
        System.out.printf(Locale.ROOT, "%-7s %8s %12s %12s %12s %14s %12s%n", "tracker", "dirty", "pages", "sync ms",
                "ms per GiB", "dirtying ms", "exits");
        for (String t : trackers) {
            DirtyTracker tracker = switch (t) {
                case "pml" -> new PmlTracker(0);
                case "wp" -> new WpTracker(0);
                case "ring" -> new RingTracker(0, RingTracker.DEFAULT_RING_SIZE);
                default -> new BitmapTracker();
            };
            for (long stride : new long[] {1000, 1}) {
                DirtyLog log = tracker.create(ram, 2);
                log.start(parked);
                WriteHook h0 = log.hook(0);
                WriteHook h1 = log.hook(1);
                DirtyBitmap target = new DirtyBitmap(pages);
                List<Long> sync = new ArrayList<>();
                List<Long> dirtying = new ArrayList<>();
                long n = 0;
                long exits = 0;
                for (int r = -3; r < reps; r++) { // r < 0 warms the JIT up
                    long e0 = log.stats().getOrDefault("exits", 0L);
                    long a = System.nanoTime();
                    for (long p = 0; p < pages; p += stride) {
                        ((p & 64) == 0 ? h0 : h1).onWrite(p); // 64-page runs alternate between the vCPUs
                    }
                    long b = System.nanoTime();
                    n = log.sync(target, parked);
                    long c = System.nanoTime();
                    target.clear();
                    if (r >= 0) {
                        dirtying.add(b - a);
                        sync.add(c - b);
                        exits = log.stats().getOrDefault("exits", 0L) - e0;
                    }
                }
                log.stop();
                double ms = median(sync.stream().map(x -> x / 1e6).toList());
                System.out.printf(Locale.ROOT, "%-7s %8s %,12d %12.3f %12.3f %14.2f %,12d%n", t, stride == 1 ? "100%" : "0.1%", n, ms,
                        ms / gib, median(dirtying.stream().map(x -> x / 1e6).toList()), exits);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // 3. Sync of a real big VM with running vCPUs

    private void runningVmSync(Map<String, Double> targets) throws Exception {
        long gib = num("big-gib", 8);
        long pages = (gib << 30) >>> RamBlock.PAGE_SHIFT;
        long dirty = Math.max(1, pages / 1000);
        String range = (dirty * 4) + "K";
        System.out.printf(Locale.ROOT, "%n3. Sync of a running %d GiB VM at 0.1%% dirty (sweep:%s = %,d pages), 2 vCPUs,"
                + " DirtyLogging.sync every 20 ms for 2 s:%n", gib, range, dirty);
        System.out.printf(Locale.ROOT, "%-7s %8s %10s %10s %10s %10s %12s%n", "tracker", "syncs", "median ms", "p90 ms",
                "max ms", "pages", "kicks/sync");
        VmManagerImpl vms = host(0);
        try {
            for (String t : trackers) {
                Vm vm;
                try {
                    vm = vms.create(VmSpec.builder("big-" + t).memory(gib << 30).vcpus(2).workload("sweep:" + range)
                            .dirtyTracker(t).build());
                } catch (IllegalArgumentException e) {
                    System.out.println("skipped: " + e.getMessage());
                    return;
                }
                awaitProgress(vm, dirty * 2);
                DirtyLogging log = vm.dirtyLogging();
                DirtyBitmap migration = new DirtyBitmap(pages);
                log.start();
                long k0 = log.stats().getOrDefault("kicks", 0L);
                List<Double> ms = new ArrayList<>();
                long harvested = 0;
                long end = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < end) {
                    Thread.sleep(20);
                    long a = System.nanoTime();
                    harvested += log.sync(migration);
                    ms.add((System.nanoTime() - a) / 1e6);
                    migration.clear();
                }
                long kicks = log.stats().getOrDefault("kicks", 0L) - k0;
                log.stop();
                List<Double> sorted = ms.stream().sorted().toList();
                double med = median(ms);
                System.out.printf(Locale.ROOT, "%-7s %8d %10.3f %10.3f %10.3f %,10d %12.1f%n", t, ms.size(), med,
                        sorted.get((int) Math.min(sorted.size() - 1, Math.round(sorted.size() * 0.9))),
                        sorted.get(sorted.size() - 1), harvested / ms.size(), (double) kicks / ms.size());
                targets.put("sync-" + t, med);
                vms.destroy(vm.name());
            }
        } finally {
            vms.deactivate();
        }
    }

    private static String millions(List<Double> xs) {
        return String.join(" ", xs.stream().map(x -> String.format(Locale.ROOT, "%.1fM", x / 1e6)).toList());
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Guest RAM as a tracker sees it: a size. The tracker-level sync never touches RAM. */
    private record SizeOnlyMemory(long size) implements GuestMemory {
        @Override
        public List<RamBlock> blocks() {
            return List.of();
        }

        @Override
        public Optional<RamBlock> block(String name) {
            return Optional.empty();
        }

        @Override
        public RamBlock blockAt(long gpa) {
            throw new UnsupportedOperationException("no RAM behind this benchmark's memory");
        }

        @Override
        public void dmaWrite(long gpa, MemorySegment src) {
            throw new UnsupportedOperationException("no RAM behind this benchmark's memory");
        }

        @Override
        public void dmaRead(long gpa, MemorySegment dst) {
            throw new UnsupportedOperationException("no RAM behind this benchmark's memory");
        }
    }
}
