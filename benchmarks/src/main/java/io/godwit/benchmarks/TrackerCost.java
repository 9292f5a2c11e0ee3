package io.godwit.benchmarks;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the built-in {@code bitmap} tracker costs the guest: the sweep guest's page writes per second per
 * vCPU with the tracker off and on, in alternating rounds of the same run. The bitmap tracker calls its
 * hook on every store (it never kicks, so it cannot use the kernel's store window); the hardware-style
 * trackers, PML's cost target among them, are measured by {@code benchmarks/run dirty}. "On" is what a migration does: logging
 * on and a sync into the migration bitmap every 100 ms, so first writes after each harvest pay.
 *
 * <p>Usage: {@code TrackerCost [memory-MiB] [vcpus] [rounds] [round-ms]}
 */
public final class TrackerCost {

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 1024;
        int vcpus = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 6;
        long roundMs = args.length > 3 ? Long.parseLong(args[3]) : 1500;
        VmManagerImpl vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        try {
            Vm vm = vms.create(VmSpec.builder("bench").memory(mib << 20).vcpus(vcpus).workload("sweep").build());
            System.out.printf("sweep guest, %d MiB, %d vCPUs, tracker bitmap, %d rounds of %d ms each way%n",
                    mib, vcpus, rounds, roundMs);
            waitForOnePass(vm); // first touch of guest RAM is not what we measure
            List<Double> off = new ArrayList<>();
            List<Double> on = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                off.add(rate(vm, roundMs, false));
                on.add(rate(vm, roundMs, true));
                System.out.printf("round %d: off %,.0f  on %,.0f pages/s/vCPU%n", r + 1, off.get(r), on.get(r));
            }
            double mOff = median(off);
            double mOn = median(on);
            System.out.printf("%nmedian pages written per second per vCPU%n");
            System.out.printf("  tracker off  %,14.0f%n  tracker on   %,14.0f%n", mOff, mOn);
            System.out.printf("  on/off ratio %14.3f  (cost %.1f%% of the write rate; the < 10%% target is PML's:"
                    + " benchmarks/run dirty)%n", mOn / mOff, (1 - mOn / mOff) * 100);
            vm.stop(RunState.PAUSED);
            var verdict = vm.check();
            System.out.printf("oracle: %d bad pages of %d%n", verdict.badPages(), verdict.pagesChecked());
            if (!verdict.clean()) {
                System.exit(1);
            }
        } finally {
            vms.deactivate();
        }
    }

    private static long progress(Vm vm) {
        return vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
    }

    private static void waitForOnePass(Vm vm) throws InterruptedException {
        long pages = vm.memory().pages();
        while (progress(vm) < pages * 2) {
            Thread.sleep(50);
        }
    }

    /** Pages per second per vCPU over one round, logging on or off. */
    private static double rate(Vm vm, long ms, boolean tracking) throws InterruptedException {
        var log = vm.dirtyLogging();
        DirtyBitmap migration = new DirtyBitmap(vm.memory().pages());
        if (tracking) {
            log.start();
        }
        long p0 = progress(vm);
        long t0 = System.nanoTime();
        long end = t0 + ms * 1_000_000;
        while (System.nanoTime() < end) {
            Thread.sleep(100);
            if (tracking) {
                log.sync(migration);
                migration.clear();
            }
        }
        long p1 = progress(vm);
        long t1 = System.nanoTime();
        if (tracking) {
            log.stop();
        }
        return (p1 - p0) * 1e9 / (t1 - t0) / vm.spec().vcpus();
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
