package io.godwit.benchmarks;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.riscv.internal.RiscvBackend;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The CPU backends' speed and throttle, one process:
 * <ol>
 *   <li>riscv instructions per second per vCPU on a tight loop (target >= 100 M) and on {@code ab};</li>
 *   <li>throttle: each backend's progress rate at 50 % throttle over its rate unthrottled, in
 *       alternating rounds of the same run (target 0.5 +- 10 %, that is 0.45 to 0.55).</li>
 * </ol>
 * Usage: {@code CpuBench [rounds] [round-ms]}
 */
public final class CpuBench {

    /** addi t0, t0, 1; add t1, t1, t0; j .-8: three instructions, forever. */
    private static final int[] TIGHT_LOOP = {0x00128293, 0x00530333, 0xff9ff06f};

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        long roundMs = args.length > 1 ? Long.parseLong(args[1]) : 1000;
        VmManagerImpl vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addCpuBackend(new RiscvBackend(), Map.of(CpuBackend.NAME, "riscv"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        Path loop = Files.createTempFile("godwit-tight-loop", ".bin");
        boolean ok = true;
        try {
            ByteBuffer b = ByteBuffer.allocate(4 * TIGHT_LOOP.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int w : TIGHT_LOOP) {
                b.putInt(w);
            }
            Files.write(loop, b.array());
            System.out.printf("%d rounds of %d ms; rates are medians per vCPU; load average %s%n%n", rounds, roundMs,
                    loadAverage());
            Vm tight = vms.create(spec("tight", "riscv", loop.toString(), 16));
            double tightRate = median(rates(tight, rounds, roundMs, 0));
            vms.destroy("tight");
            Vm ab = vms.create(spec("ab", "riscv", "ab:64M", 128));
            double abRate = median(rates(ab, rounds, roundMs, 0));
            ab.stop(RunState.PAUSED);
            boolean abClean = ab.check().clean();
            vms.destroy("ab");
            System.out.printf("riscv tight loop   %,16.0f insns/s  (target >= 100,000,000: %s)%n", tightRate,
                    tightRate >= 100e6 ? "PASS" : "MISS");
            System.out.printf("riscv ab (64 MiB)  %,16.0f insns/s  (oracle: %s)%n%n", abRate, abClean ? "clean" : "BAD");
            ok &= abClean;

            System.out.println("throttle 50 %: rate throttled / rate unthrottled, alternating rounds");
            ok &= throttle(vms, spec("t-riscv", "riscv", loop.toString(), 16), rounds, roundMs);
            ok &= throttle(vms, spec("t-synth", "synthetic", "sweep:64M", 128), rounds, roundMs);
        } finally {
            Files.deleteIfExists(loop);
            vms.deactivate();
        }
        System.exit(ok ? 0 : 1);
    }

    private static long cpuTime(long threadId) {
        return java.lang.management.ManagementFactory.getThreadMXBean().getThreadCpuTime(threadId);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private static VmSpec spec(String name, String cpu, String workload, long mib) {
        return VmSpec.builder(name).memory(mib << 20).cpu(cpu).workload(workload).build();
    }

    private static boolean throttle(VmManagerImpl vms, VmSpec spec, int rounds, long roundMs) throws Exception {
        Vm vm = vms.create(spec);
        rate(vm, roundMs); // warm up: JIT and first touch of RAM
        List<Double> ratios = new ArrayList<>();
        List<Double> free = new ArrayList<>();
        List<Double> half = new ArrayList<>();
        List<Double> freeShare = new ArrayList<>();
        List<Double> halfShare = new ArrayList<>();
        long tid = vm.cpus().get(0).threadId();
        // Short alternating pairs and the median of their ratios: the other load of a busy host changes
        // from second to second, and each pair sees about the same.
        for (int r = 0; r < 2 * rounds; r++) {
            vm.setThrottle(0);
            long c0 = cpuTime(tid);
            long t0 = System.nanoTime();
            double f = rate(vm, roundMs / 2);
            long c1 = cpuTime(tid);
            long t1 = System.nanoTime();
            vm.setThrottle(50);
            double h = rate(vm, roundMs / 2);
            freeShare.add((c1 - c0) / (double) (t1 - t0));
            halfShare.add((cpuTime(tid) - c1) / (double) (System.nanoTime() - t1));
            free.add(f);
            half.add(h);
            ratios.add(h / f);
        }
        vm.setThrottle(0);
        vm.stop(RunState.PAUSED);
        boolean clean = vm.check().clean();
        vms.destroy(spec.name());
        double ratio = median(ratios);
        boolean pass = ratio >= 0.45 && ratio <= 0.55;
        // Throttling is about wall-clock time; it can only be judged when the unthrottled vCPU had a core.
        boolean judged = median(freeShare) >= 0.9;
        System.out.printf(Locale.ROOT, "  %-9s %-11s off %,13.0f  50%% %,13.0f %s/s  ratio %.3f (%.2f..%.2f over %d"
                        + " pairs; target 0.45-0.55: %s)%s%n",
                spec.cpuBackend(), spec.workload().startsWith("/") ? "tight loop" : spec.workload(), median(free),
                median(half), vm.cpus().get(0).progressUnit(), ratio, ratios.stream().mapToDouble(d -> d).min()
                        .orElse(0), ratios.stream().mapToDouble(d -> d).max().orElse(0), ratios.size(),
                !judged ? "not judged" : pass ? "PASS" : "MISS", clean ? "" : "  oracle: BAD");
        System.out.printf(Locale.ROOT, "  %-21s vCPU thread's CPU share: off %.2f, 50%% %.2f of a core%s%n", "",
                median(freeShare), median(halfShare), judged ? "" : " (the host is busy: below 0.9 unthrottled)");
        return clean;
    }

    private static List<Double> rates(Vm vm, int rounds, long roundMs, int throttle) throws InterruptedException {
        vm.setThrottle(throttle);
        rate(vm, roundMs); // warm up
        List<Double> out = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            out.add(rate(vm, roundMs));
        }
        return out;
    }

    /** Progress per second per vCPU over one round. */
    private static double rate(Vm vm, long ms) throws InterruptedException {
        long p0 = progress(vm);
        long t0 = System.nanoTime();
        Thread.sleep(ms);
        long p1 = progress(vm);
        long t1 = System.nanoTime();
        return (p1 - p0) * 1e9 / (t1 - t0) / vm.spec().vcpus();
    }

    private static long progress(Vm vm) {
        return vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
