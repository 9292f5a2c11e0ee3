package io.godwit.benchmarks;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.transport.file.internal.FileTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Saving to a file, in one process (plain class path; the kernel, the coordinator and the file transport
 * constructed directly):
 * <ol>
 *   <li>mapped-ram: a full-speed sweep guest of {@code mem} MiB saved live for {@code passes} passes that
 *   cannot converge (downtime-limit 0), then allowed to finish; the file's size after each pass and at
 *   the end against RAM + 1 %; then restored into a second VM manager (a second "host") and checked by
 *   the oracle;</li>
 *   <li>XBZRLE: a 256 MiB guest sweeping 32 MiB (one byte changed per page; the default 64 MiB cache
 *   holds the working set: QEMU's cache is direct-mapped too, and a working set larger than the cache
 *   evicts itself) saved as the plain stream into a file for {@code passes} passes with and without
 *   xbzrle; bytes per pass and per page after the first pass.</li>
 * </ol>
 * <p>Usage: {@code FileBench [mem-MiB=1024] [passes=6] [dir=java.io.tmpdir]}; exits 1 when a check fails.
 */
public final class FileBench {

    private static final long MIB = 1 << 20;

    public static void main(String[] args) throws Exception {
        long mem = (args.length > 0 ? Long.parseLong(args[0]) : 1024) * MIB;
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        Path dir = Files.createTempDirectory(Path.of(args.length > 2 ? args[2] : System.getProperty("java.io.tmpdir")),
                "godwit-filebench-");
        boolean ok = true;
        try {
            ok &= mappedRam(mem, passes, dir);
            ok &= xbzrle(Math.min(mem, 256 * MIB), passes, dir);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
        System.exit(ok ? 0 : 1);
    }

    private static boolean mappedRam(long mem, int passes, Path dir) throws Exception {
        Path file = dir.resolve("vm.img");
        long bound = mem + mem / 100;
        System.out.printf("mapped-ram: a full-speed sweep guest of %d MiB, 2 vCPUs, saved live into %s%n",
                mem / MIB, file);
        Host a = new Host();
        Host b = new Host();
        try {
            a.vms.create(VmSpec.builder("g").memory(mem).vcpus(2).workload("sweep").build());
            a.coordinator.setCapability("g", MigrationCapability.RETURN_PATH, false);
            a.coordinator.setCapability("g", MigrationCapability.MAPPED_RAM, true);
            a.coordinator.setParameter("g", MigrationParameter.DOWNTIME_LIMIT, 0);
            long t0 = System.nanoTime();
            a.coordinator.migrate("g", "file:" + file);
            long largest = 0;
            for (int p = 2; p <= passes; p++) {
                int pass = p;
                waitFor(() -> a.coordinator.info("g").ram().dirtySyncCount() >= pass
                        || a.coordinator.info("g").status().isFinal());
                MigrationInfo i = a.coordinator.info("g");
                long size = Files.size(file);
                largest = Math.max(largest, size);
                System.out.printf("  pass %d: %,d pages written so far (%.2f x RAM), file %,d bytes (%s)%n",
                        i.ram().dirtySyncCount(), i.ram().normal(), i.ram().normal() * 4096.0 / mem, size,
                        size <= bound ? "within RAM + 1 %" : "OVER RAM + 1 %");
            }
            a.coordinator.setParameter("g", MigrationParameter.DOWNTIME_LIMIT, 60_000);
            MigrationInfo out = await(a.coordinator, "g");
            long saveMs = (System.nanoTime() - t0) / 1_000_000;
            long size = Files.size(file);
            largest = Math.max(largest, size);
            System.out.printf("  saved: %s after %d passes in %d ms (downtime %d ms); file %,d bytes = RAM + %,d"
                    + " (%.4f %%)%n", out.status(), out.ram().dirtySyncCount(), saveMs, out.downtimeMs(), size,
                    size - mem, (size - mem) * 100.0 / mem);
            b.vms.create(VmSpec.builder("g").memory(mem).vcpus(2).workload("sweep").incoming("defer").build());
            long t1 = System.nanoTime();
            b.coordinator.incoming("g", "file:" + file);
            MigrationInfo in = await(b.coordinator, "g");
            long restoreMs = (System.nanoTime() - t1) / 1_000_000;
            Vm restored = b.vms.get("g").orElseThrow();
            restored.stop(RunState.PAUSED);
            var verdict = restored.check();
            System.out.printf("  restored: %s in %d ms; oracle: %d bad pages of %d%n", in.status(), restoreMs,
                    verdict.badPages(), verdict.pagesChecked());
            boolean pass = out.status() == MigrationStatus.COMPLETED && in.status() == MigrationStatus.COMPLETED
                    && largest <= bound && verdict.clean();
            System.out.printf("  target: the file at most RAM + 1 %% however long the save runs: %s (largest %,d"
                    + " of %,d)%n%n", pass ? "PASS" : "MISS", largest, bound);
            return pass;
        } finally {
            a.close();
            b.close();
        }
    }

    private static boolean xbzrle(long mem, int passes, Path dir) throws Exception {
        System.out.printf("xbzrle: a %d MiB guest sweeping 32 MiB (2 vCPUs at 20000 pages/s each, one byte changed"
                + " per page) saved as the plain stream for %d passes, default cache (64 MiB)%n", mem / MIB, passes);
        double[] perPass = new double[2];
        double[] perPage = new double[2];
        for (int on = 0; on < 2; on++) {
            Host a = new Host();
            try {
                a.vms.create(VmSpec.builder("g").memory(mem).vcpus(2).workload("sweep:32M,rate=20000").build());
                a.coordinator.setCapability("g", MigrationCapability.RETURN_PATH, false);
                a.coordinator.setCapability("g", MigrationCapability.XBZRLE, on == 1);
                a.coordinator.setParameter("g", MigrationParameter.DOWNTIME_LIMIT, 0);
                a.coordinator.setParameter("g", MigrationParameter.STALL_ACTION, 0); // none: go on, we end it
                a.coordinator.migrate("g", "file:" + dir.resolve("x" + on + ".img"));
                waitFor(() -> a.coordinator.info("g").ram().dirtySyncCount() >= 2);
                MigrationInfo first = a.coordinator.info("g");
                waitFor(() -> a.coordinator.info("g").ram().dirtySyncCount() >= passes);
                MigrationInfo last = a.coordinator.info("g");
                a.coordinator.cancel("g");
                await(a.coordinator, "g");
                long n = last.ram().dirtySyncCount() - first.ram().dirtySyncCount();
                long bytes = last.ram().transferred() - first.ram().transferred();
                perPass[on] = (double) bytes / n;
                long pages = last.ram().normal() + last.ram().duplicate() + last.xbzrle().pages()
                        - first.ram().normal() - first.ram().duplicate() - first.xbzrle().pages();
                perPage[on] = (double) bytes / Math.max(1, pages);
                System.out.printf("  xbzrle %-3s: %,.0f bytes per pass, %,.1f bytes per page sent, over passes %d..%d%s%n",
                        on == 1 ? "on" : "off", perPass[on], perPage[on], first.ram().dirtySyncCount(),
                        last.ram().dirtySyncCount(), on == 1 ? "; " + last.xbzrle() : "");
                Files.delete(dir.resolve("x" + on + ".img"));
            } finally {
                a.close();
            }
        }
        boolean pass = perPass[1] < perPass[0];
        System.out.printf("  ratio off/on: %.1f per pass, %.1f per page; target: fewer bytes per pass with xbzrle: %s%n",
                perPass[0] / perPass[1], perPage[0] / perPage[1], pass ? "PASS" : "MISS");
        return pass;
    }

    private static MigrationInfo await(Coordinator c, String vm) throws InterruptedException {
        waitFor(() -> c.info(vm).status().isFinal());
        return c.info(vm);
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 600_000;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
    }

    /** A kernel with the synthetic CPU and a coordinator with the file transport. */
    private static final class Host implements AutoCloseable {
        final VmManagerImpl vms = new VmManagerImpl();
        final Coordinator coordinator;

        Host() {
            vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
            vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
            coordinator = new Coordinator(vms);
            coordinator.addTransport(new FileTransport(), Map.of(Transport.SCHEME, "file"));
        }

        @Override
        public void close() throws InterruptedException {
            coordinator.deactivate();
            vms.deactivate();
        }
    }
}
