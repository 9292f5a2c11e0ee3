package io.godwit.virtio.net.internal;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.wire.StateEncoder;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * What a vhost-net device adds to a migration's downtime estimate, measured in one run against a
 * baseline from the same run:
 * <ul>
 *   <li>the vhost log scan per sync (the {@code vhost_log_sync} share of QEMU's bitmap-sync time),
 *       sparse (a live rx queue) and with every page of RAM logged, against the whole sync;</li>
 *   <li>the device-state save at switchover against one vCPU's state save.</li>
 * </ul>
 * Usage: {@code benchmarks/run devices [mem=MiB] [rx-rate=N] [syncs=N] [interval-ms=N] [reps=N]}.
 * Runs in the package of the device (plain class path) to read its log and counters.
 */
public final class DeviceBench {

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            a.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        long memMiB = Long.parseLong(a.getOrDefault("mem", "1024"));
        long rate = Long.parseLong(a.getOrDefault("rx-rate", "20000"));
        int syncs = Integer.parseInt(a.getOrDefault("syncs", "20"));
        int intervalMs = Integer.parseInt(a.getOrDefault("interval-ms", "100"));
        int reps = Integer.parseInt(a.getOrDefault("reps", "20000"));

        VmManagerImpl vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioNetFactory(), Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
        try {
            Vm vm = vms.create(VmSpec.builder("bench").memory(memMiB << 20).workload("idle")
                    .device("virtio-net,rx-rate=" + rate).build());
            VirtioNet net = (VirtioNet) vm.devices().get(0).device();
            long deadline = System.currentTimeMillis() + 30_000;
            while (net.vhost().packets() < 100 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            System.out.printf(Locale.ROOT, "guest RAM %d MiB, rx-rate %d packets/s, %d syncs every %d ms%n%n",
                    memMiB, rate, syncs, intervalMs);
            scans(vm, net, syncs, intervalMs, false);
            scans(vm, net, syncs, intervalMs, true);
            saves(vm, net, reps);
        } finally {
            vms.deactivate();
        }
    }

    /** Per sync: the vhost log's scan time and the whole sync's (tracker + DMA log + vhost log). */
    private static void scans(Vm vm, VirtioNet net, int syncs, int intervalMs, boolean everyPage) throws Exception {
        DirtyBitmap target = new DirtyBitmap(vm.memory().pages());
        long[] scan = new long[syncs];
        long[] whole = new long[syncs];
        long harvested = 0;
        vm.dirtyLogging().start();
        try {
            for (int i = 0; i < syncs; i++) {
                Thread.sleep(intervalMs);
                if (everyPage) {
                    net.log().current().setAll(); // the worst case: every page of RAM logged
                }
                long t0 = System.nanoTime();
                long pages = vm.dirtyLogging().sync(target);
                whole[i] = System.nanoTime() - t0;
                scan[i] = net.log().lastScanNanos();
                harvested += pages;
                target.clear();
            }
        } finally {
            vm.dirtyLogging().stop();
        }
        long s = median(scan);
        long w = median(whole);
        System.out.printf(Locale.ROOT, "vhost log scan, %-22s median %8.1f us per sync; whole sync %8.1f us (baseline);"
                        + " vhost share %4.0f%%; %d pages harvested in all%n",
                everyPage ? "every page logged:" : "live rx queue:", s / 1e3, w / 1e3, 100.0 * s / Math.max(1, w),
                harvested);
    }

    /** Device-state save at switchover against one vCPU's state save. */
    private static void saves(Vm vm, VirtioNet net, int reps) throws Exception {
        vm.stop(RunState.PAUSED);
        long[] dev = new long[9];
        long[] cpu = new long[9];
        int bytesDev = 0;
        int bytesCpu = 0;
        for (int round = 0; round < dev.length; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                StateEncoder out = new StateEncoder();
                net.saveState(out);
                bytesDev = out.toByteArray().length;
            }
            dev[round] = (System.nanoTime() - t0) / reps;
            t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                StateEncoder out = new StateEncoder();
                vm.saveVcpuState(0, out);
                bytesCpu = out.toByteArray().length;
            }
            cpu[round] = (System.nanoTime() - t0) / reps;
        }
        long d = median(dev);
        long c = median(cpu);
        System.out.printf(Locale.ROOT, "device-state save: virtio-net %6.2f us (%d bytes); one vCPU %6.2f us (%d bytes,"
                + " baseline); ratio %.1f%n", d / 1e3, bytesDev, c / 1e3, bytesCpu, (double) d / Math.max(1, c));
    }

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
