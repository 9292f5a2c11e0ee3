package io.godwit.transport.file.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
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
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Saving VMs into files and restoring them, outside OSGi (the kernel, the synthetic CPU, the coordinator
 * and this transport constructed directly): mapped-ram's bounded file from a live guest, the plain
 * stream in a file, offsets, bad files, and the one-way guard. Every restore is checked by the sweep
 * oracle.
 */
@Timeout(300)
class FileMigrationTest {

    private static final long MIB = 1 << 20;
    /** The guest of the saved files: the destination runs the same workload. */
    private static final String SAVED = "sweep:16M,rate=20000";

    @TempDir
    Path dir;

    private VmManagerImpl vms;
    private Coordinator coordinator;

    @BeforeEach
    void host() {
        vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new FileTransport(), Map.of(Transport.SCHEME, "file"));
    }

    @AfterEach
    void stopHost() throws InterruptedException {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void aLiveSweepGuestSavedWithMappedRamKeepsTheFileWithinItsRamAndRestoresClean() throws Exception {
        long mem = 128 * MIB;
        Vm src = source("sweep", mem, true);
        sweptOnce(src, mem);
        Path file = dir.resolve("vm.img");
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 0); // never converges...
        coordinator.migrate("src", "file:" + file);
        waitFor(() -> coordinator.info("src").ram().dirtySyncCount() >= 8 || coordinator.info("src").status().isFinal());
        MigrationInfo live = coordinator.info("src");
        assertEquals(MigrationStatus.ACTIVE, live.status(), String.valueOf(live));
        assertTrue(live.ram().normal() > 2 * mem / 4096, "every pass rewrote the guest's pages: " + live.ram());
        assertTrue(Files.size(file) <= bound(mem), "after " + live.ram().dirtySyncCount() + " passes the file is "
                + Files.size(file) + " bytes");
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 60_000); // ...until allowed to
        MigrationInfo out = await("src");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(RunState.POSTMIGRATE, src.state());
        assertTrue(Files.size(file) <= bound(mem), "the file is " + Files.size(file) + " bytes for " + mem + " of RAM");

        Vm dst = restore("dst", mem, "sweep", "file:" + file);
        assertEquals(RunState.RUNNING, dst.state(), "the guest ran when it was saved");
        assertEquals(mem / 4096, coordinator.info("dst").ram().normal() + coordinator.info("dst").ram().duplicate());
        waitFor(() -> dst.cpus().stream().mapToLong(c -> c.progress()).sum() > 0);
        dst.stop(RunState.PAUSED);
        OracleVerdict verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    /**
     * Multifd with mapped-ram (QEMU 9.0): four threads write the passes' pages into the file side by
     * side at their offsets, each pass synced before the next begins, so no page's older copy lands
     * over its newer one: the restored full-speed sweep is clean, and the file stays within its RAM.
     */
    @Test
    void multifdWritesTheFileInParallelWithinItsRamAndRestoresClean() throws Exception {
        long mem = 128 * MIB;
        Vm src = source("sweep", mem, true);
        coordinator.setCapability("src", MigrationCapability.MULTIFD, true);
        coordinator.setParameter("src", MigrationParameter.MULTIFD_CHANNELS, 4);
        sweptOnce(src, mem);
        Path file = dir.resolve("vm.img");
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 0); // never converges...
        coordinator.migrate("src", "file:" + file);
        waitFor(() -> coordinator.info("src").ram().dirtySyncCount() >= 6 || coordinator.info("src").status().isFinal());
        MigrationInfo live = coordinator.info("src");
        assertEquals(MigrationStatus.ACTIVE, live.status(), String.valueOf(live));
        assertEquals(4, live.multifd().channels(), String.valueOf(live.multifd()));
        assertEquals(4, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("mig-src-mapped-")).count(), "the file's writing threads");
        assertTrue(live.multifd().bytes() > mem, "the channels wrote every pass: " + live.multifd());
        assertTrue(Files.size(file) <= bound(mem), "the file is " + Files.size(file) + " bytes");
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 60_000); // ...until allowed to
        MigrationInfo out = await("src");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertTrue(Files.size(file) <= bound(mem), "the file is " + Files.size(file) + " bytes for " + mem + " of RAM");
        waitFor(() -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("mig-src-mapped-")));

        Vm dst = restore("dst", mem, "sweep", "file:" + file); // a destination with multifd off reads it too
        dst.stop(RunState.PAUSED);
        OracleVerdict verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    @Test
    void multifdIntoAFileNeedsMappedRamAndNoCompression() throws Exception {
        Vm src = source("sweep", 32 * MIB, false);
        coordinator.setCapability("src", MigrationCapability.MULTIFD, true);
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "file:" + dir.resolve("x.img")));
        assertTrue(plain.getMessage().startsWith("capability multifd needs a transport that is multi-channel"),
                plain.getMessage());
        coordinator.setCapability("src", MigrationCapability.MAPPED_RAM, true);
        coordinator.setParameter("src", MigrationParameter.MULTIFD_COMPRESSION, 2);
        IllegalArgumentException zstd = assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "file:" + dir.resolve("x.img")));
        assertEquals("capability mapped-ram cannot be combined with multifd-compression zstd"
                + " (migrate_set_parameter multifd-compression none)", zstd.getMessage());
        assertEquals(RunState.RUNNING, src.state());
        assertFalse(Files.exists(dir.resolve("x.img")));
    }

    @Test
    void anOfflineSaveAtAnOffsetKeepsWhatLiesBeforeAndRestoresPaused() throws Exception {
        long mem = 32 * MIB;
        Vm src = source("sweep:16M", mem, true);
        Path file = dir.resolve("vm.img");
        byte[] before = new byte[4096];
        Arrays.fill(before, (byte) 'X');
        Files.write(file, before);
        waitFor(() -> src.cpus().stream().mapToLong(c -> c.progress()).sum() > 4096);
        src.stop(RunState.PAUSED);
        coordinator.migrate("src", "file:" + file + ",offset=0x1000");
        assertEquals(MigrationStatus.COMPLETED, await("src").status());
        byte[] head = Files.readAllBytes(file);
        assertTrue(Arrays.equals(before, Arrays.copyOf(head, 4096)), "the first 4 KiB are left as they were");
        assertEquals("GDWT", new String(head, 4096, 4, java.nio.charset.StandardCharsets.US_ASCII));

        Vm dst = restore("dst", mem, "sweep:16M", "file:" + file + ",offset=4096");
        assertEquals(RunState.PAUSED, dst.state(), "a guest saved paused stays paused");
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    @Test
    void withoutMappedRamTheFileHoldsTheStreamAsItWasSent() throws Exception {
        long mem = 32 * MIB;
        Vm src = source(SAVED, mem, false);
        Path file = dir.resolve("vm.img");
        coordinator.migrate("src", "file:" + file);
        assertEquals(MigrationStatus.COMPLETED, await("src").status());
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = restore("dst", mem, SAVED, "file:" + file);
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    @Test
    void aTruncatedFileIsAOneLineErrorAndNoVmStarts() throws Exception {
        Path file = save(32 * MIB, true);
        long size = Files.size(file);
        for (long cut : new long[] {size / 2, size - 1, 100, 0}) {
            Path shorter = dir.resolve("cut-" + cut);
            Files.copy(file, shorter);
            try (RandomAccessFile f = new RandomAccessFile(shorter.toFile(), "rw")) {
                f.setLength(cut);
            }
            refused("dst" + cut, 32 * MIB, "file:" + shorter, cut == size / 2 ? "the file is truncated" : "ended");
        }
    }

    @Test
    void aCorruptedPageIsCaughtByVerifyRamAndACorruptedHeaderByTheStreamChecks() throws Exception {
        Path file = save(32 * MIB, true);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(2);
            f.write('?');
        }
        refused("magic", 32 * MIB, "file:" + file, "not a Godwit migration stream");
        Path verified = save(32 * MIB, true, true);
        try (RandomAccessFile f = new RandomAccessFile(verified.toFile(), "rw")) {
            // Inside the page region (it starts within the first 16 KiB), in a page the sweep wrote: its
            // 16 MiB range starts at page 0, and untouched or zero pages are absent from the file.
            long at = (256 << 10) + 123;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
        refused("page", 32 * MIB, "file:" + verified, "verify-ram: the destination's RAM differs");
    }

    /**
     * Random bytes in the stream's head (header, hello, the layout) and in the bitmap: refused, or loaded
     * and clean. A bitmap bit flipped would load a zero page where the guest had data: the sealed
     * layout's CRC32C in the tail refuses it. (A flipped byte in a page is caught by verify-ram only.)
     */
    @Test
    void flippedBytesInTheMetadataNeverStartABadVm() throws Exception {
        Path file = save(32 * MIB, true);
        byte[] whole = Files.readAllBytes(file);
        long[] head = headAndBitmap(file);
        java.util.Random random = new java.util.Random(14);
        int refusedBitmaps = 0;
        for (int i = 0; i < 24; i++) {
            byte[] copy = whole.clone();
            boolean inBitmap = i % 2 == 1;
            int at = (int) (inBitmap ? head[1] + random.nextInt((int) head[2]) : random.nextInt((int) head[0]));
            copy[at] ^= (byte) (1 + random.nextInt(255));
            Path bad = dir.resolve("flip-" + i);
            Files.write(bad, copy);
            String name = "f" + i;
            Vm dst = vms.create(VmSpec.builder(name).memory(32 * MIB).vcpus(2).workload(SAVED).incoming("defer").build());
            coordinator.incoming(name, "file:" + bad);
            MigrationInfo in = await(name);
            if (in.status() == MigrationStatus.COMPLETED) {
                dst.stop(RunState.PAUSED);
                assertTrue(dst.check().clean(), "byte " + at + ": loaded, so it must be clean: " + dst.check());
            } else {
                assertEquals(MigrationStatus.FAILED, in.status());
                assertEquals(RunState.INMIGRATE, dst.state(), "byte " + at + ": " + in.error());
                assertFalse(in.error().contains("\n"), in.error());
                refusedBitmaps += inBitmap && in.error().contains("is damaged") ? 1 : 0;
            }
            vms.destroy(name);
        }
        assertEquals(12, refusedBitmaps, "every flipped bitmap byte is refused by its CRC32C");
    }

    /** The end of the layout frame, the first bitmap's offset and its length, read with the wire's own reader. */
    private static long[] headAndBitmap(Path file) throws Exception {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            io.godwit.wire.FrameReader r = new io.godwit.wire.FrameReader(ch);
            r.readStreamHeader();
            while (true) {
                io.godwit.wire.Frame f = r.next();
                if (f.type() == io.godwit.wire.FrameType.MAPPED_RAM) {
                    var layout = r.readMessage(f, io.godwit.wire.proto.MappedRamLayout.parser());
                    var b = layout.getBlocks(0);
                    return new long[] {r.bytesConsumed(), b.getBitmapOffset(), (b.getPages() + 63) / 64 * 8};
                }
                r.skipPayload();
            }
        }
    }

    @Test
    void aFileOfAnotherVmsShapeIsRefused() throws Exception {
        Path file = save(32 * MIB, true);
        refused("bigger", 64 * MIB, "file:" + file, "RAM");
    }

    /**
     * With the defaults (return-path on, nothing set), a file: migration runs: a file cannot answer,
     * so return-path goes off by itself for it, live with mapped-ram and offline without; the restores
     * pass the oracle. A return-path the user chose is still refused with the way out.
     */
    @Test
    void aFileMigrationRunsWithTheDefaultsReturnPathOffByItself() throws Exception {
        long mem = 32 * MIB;
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(2).workload(SAVED).build());
        coordinator.setCapability("src", MigrationCapability.MAPPED_RAM, true);
        Path live = dir.resolve("live.img");
        coordinator.migrate("src", "file:" + live);
        assertEquals(MigrationStatus.COMPLETED, await("src").status(), String.valueOf(coordinator.info("src")));
        assertTrue(coordinator.capability("src", MigrationCapability.RETURN_PATH), "the setting is left as it was");
        Vm dst = restore("dst", mem, SAVED, "file:" + live);
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());

        Vm plain = vms.create(VmSpec.builder("plain").memory(mem).vcpus(2).workload("sweep:16M").build());
        waitFor(() -> plain.cpus().stream().mapToLong(c -> c.progress()).sum() > 4096);
        plain.stop(RunState.PAUSED);
        Path offline = dir.resolve("offline.img");
        coordinator.migrate("plain", "file:" + offline);
        assertEquals(MigrationStatus.COMPLETED, await("plain").status(), String.valueOf(coordinator.info("plain")));
        Vm back = restore("back", mem, "sweep:16M", "file:" + offline);
        assertEquals(RunState.PAUSED, back.state());
        assertTrue(back.check().clean(), back.check().toString());

        Vm chosen = vms.create(VmSpec.builder("chosen").memory(mem).vcpus(2).workload("idle").build());
        coordinator.setCapability("chosen", MigrationCapability.RETURN_PATH, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("chosen", "file:" + dir.resolve("chosen.img")));
        assertEquals("capability return-path needs a transport that is two-way (a channel back from the destination); "
                + "file:" + dir.resolve("chosen.img") + " is not (migrate_set_capability return-path off)", e.getMessage());
        assertEquals(RunState.RUNNING, chosen.state());
    }

    @Test
    void mappedRamNeedsAFileAndNoPostcopy() throws Exception {
        Vm src = source("sweep", 32 * MIB, true);
        coordinator.setCapability("src", MigrationCapability.POSTCOPY_RAM, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "file:" + dir.resolve("x.img")));
        assertEquals("capability mapped-ram cannot be combined with postcopy-ram (migrate_set_capability postcopy-ram off)",
                e.getMessage());
        assertEquals(RunState.RUNNING, src.state());
        assertFalse(Files.exists(dir.resolve("x.img")));
    }

    @Test
    void aNonConvergingLiveSaveWithoutMappedRamIsCancelledWithItsReasonAndTheSourceRunsOn() throws Exception {
        long mem = 32 * MIB;
        Vm src = source("sweep", mem, false);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 0);
        coordinator.setParameter("src", MigrationParameter.STALL_PASSES, 3);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 16 << 20); // bounds the file without the guard
        Path file = dir.resolve("vm.img");
        coordinator.migrate("src", "file:" + file);
        MigrationInfo out = await("src");
        assertEquals(MigrationStatus.CANCELLED, out.status(), String.valueOf(out));
        assertTrue(out.error().startsWith("not converging: ") && out.error().contains("file:" + file
                + " is a one-way stream that keeps every pass, so the migration was cancelled and the source runs on"),
                out.error());
        assertFalse(out.error().contains("\n"));
        assertEquals(RunState.RUNNING, src.state());
        assertTrue(Files.size(file) < 8 * mem, "the file stopped at " + Files.size(file) + " bytes");
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), src.check().toString());
    }

    @Test
    void aStallActionTheUserChoseIsKeptOnAOneWayStream() throws Exception {
        Vm src = source("sweep", 32 * MIB, false);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 0);
        coordinator.setParameter("src", MigrationParameter.STALL_PASSES, 2);
        coordinator.setParameter("src", MigrationParameter.STALL_ACTION, 0); // none, as asked
        coordinator.migrate("src", "file:" + dir.resolve("vm.img"));
        waitFor(() -> coordinator.info("src").stall() != null || coordinator.info("src").status().isFinal());
        waitFor(() -> coordinator.info("src").ram().dirtySyncCount() >= 6 || coordinator.info("src").status().isFinal());
        assertEquals(MigrationStatus.ACTIVE, coordinator.info("src").status(), String.valueOf(coordinator.info("src")));
        assertTrue(coordinator.info("src").stall().startsWith("not converging: "));
        coordinator.cancel("src");
        assertEquals(MigrationStatus.CANCELLED, await("src").status());
        assertEquals(RunState.RUNNING, src.state());
    }

    // --- helpers

    /** RAM plus 1 %: what a mapped-ram file may take at most. */
    private static long bound(long mem) {
        return mem + mem / 100;
    }

    private Vm source(String workload, long mem, boolean mappedRam) {
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(2).workload(workload).build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        coordinator.setCapability("src", MigrationCapability.MAPPED_RAM, mappedRam);
        return src;
    }

    /** A live sweep guest saved into a file. */
    private Path save(long mem, boolean mappedRam) throws Exception {
        return save(mem, mappedRam, false);
    }

    /** ... with verify-ram, whose digests the restore checks. */
    private Path save(long mem, boolean mappedRam, boolean verifyRam) throws Exception {
        source(SAVED, mem, mappedRam);
        coordinator.setCapability("src", MigrationCapability.VERIFY_RAM, verifyRam);
        Path file = dir.resolve(verifyRam ? "verified.img" : "saved.img");
        coordinator.migrate("src", "file:" + file);
        assertEquals(MigrationStatus.COMPLETED, await("src").status());
        vms.destroy("src");
        return file;
    }

    private Vm restore(String name, long mem, String workload, String uri) throws Exception {
        Vm dst = vms.create(VmSpec.builder(name).memory(mem).vcpus(2).workload(workload).incoming("defer").build());
        coordinator.incoming(name, uri);
        MigrationInfo in = await(name);
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        return dst;
    }

    private void refused(String name, long mem, String uri, String why) throws Exception {
        Vm dst = vms.create(VmSpec.builder(name).memory(mem).vcpus(2).workload(SAVED).incoming("defer").build());
        coordinator.incoming(name, uri);
        MigrationInfo in = await(name);
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        assertTrue(in.error().contains(why), in.error());
        assertFalse(in.error().contains("\n"), in.error());
        assertEquals(RunState.INMIGRATE, dst.state());
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        waitFor(() -> coordinator.info(vm).status().isFinal());
        return coordinator.info(vm);
    }

    /**
     * Waits until the full-speed sweep wrote all of RAM once: a pass that starts earlier finds much of it
     * never touched, and on a quiet host eight passes can end before the guest rewrote anything.
     */
    private static void sweptOnce(Vm vm, long mem) throws InterruptedException {
        waitFor(() -> vm.cpus().stream().mapToLong(c -> c.progress()).sum() >= mem / 4096);
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }
}
