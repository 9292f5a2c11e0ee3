package io.godwit.virtio.blk.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.DeviceFactory;
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
import io.godwit.coordinator.internal.UnixTestTransport;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * virtio-blk under guest I/O through a live migration on shared storage: every completion is of a
 * request in flight (exactly once), every read returns what the guest last wrote, the image holds
 * every write, and the sweep oracle finds no bad page.
 */
class BlkMigrationTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    BlkMigrationTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioBlkFactory(), Map.of(DeviceFactory.NAME, VirtioBlkFactory.TYPE));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-blk");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void ioGoesOnAcrossALiveMigrationOnSharedStorage() throws Exception {
        String device = "virtio-blk,image=" + dir.resolve("disk.img") + ",size=2097152";
        migrateUnderIo(device, device, false);
    }

    @Test
    void copyStorageSendsTheDiskToTheDestinationsOwnImage() throws Exception {
        migrateUnderIo("virtio-blk,image=" + dir.resolve("src.img") + ",size=2097152",
                "virtio-blk,image=" + dir.resolve("dst.img") + ",size=2097152", true);
        // The byte-for-byte comparison happened with the destination still paused (migrateUnderIo).
        // The destination's image, made for the copy, holds the guest's disk: nobody else's to read.
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("dst.img"))));
    }

    @Test
    void withoutCopyStorageTheDestinationsOwnImageIsCaughtStale() throws Exception {
        // Negative control: separate images but no copy: the destination's oracle must see the empty disk.
        migrateUnderIo("virtio-blk,image=" + dir.resolve("a.img") + ",size=2097152",
                "virtio-blk,image=" + dir.resolve("b.img") + ",size=2097152", false, false);
    }

    @Test
    void copyStorageOntoTheSourcesOwnImageIsRefusedAndLeavesNoBlockLog() throws Exception {
        String device = "virtio-blk,image=" + dir.resolve("same.img") + ",size=2097152";
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).workload("sweep:16M,rate=20000").device(device)
                .build());
        vms.create(VmSpec.builder("dst").memory(64 << 20).workload("sweep:16M,rate=20000").device(device)
                .incoming("defer").build());
        coordinator.setCapability("src", MigrationCapability.COPY_STORAGE, true);
        await(() -> blk(src).backend().requests() > 100, 30_000, "I/O on the source");
        String sock = dir.resolve("m.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.migrate("src", "unix:" + sock);
        await(() -> coordinator.info("src").status().isFinal() && coordinator.info("dst").status().isFinal(), 60_000,
                "the migration");
        MigrationInfo out = coordinator.info("src");
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        String why = out.error() + " / " + coordinator.info("dst").error();
        assertTrue(why.contains("blk0") && why.contains("own image"), why);
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        assertFalse(blk(src).backend().blockLogging(), "the dirty-block log outlived the failed migration");
        long before = blk(src).backend().requests();
        await(() -> blk(src).backend().requests() > before + 100, 30_000, "I/O on the source after the failure");
        src.stop(RunState.PAUSED);
        OracleVerdict v = src.check();
        assertTrue(v.clean(), v.toString());
    }

    private void migrateUnderIo(String srcDevice, String dstDevice, boolean copy) throws Exception {
        migrateUnderIo(srcDevice, dstDevice, copy, true);
    }

    private void migrateUnderIo(String srcDevice, String dstDevice, boolean copy, boolean expectClean)
            throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).workload("sweep:16M,rate=20000").device(srcDevice)
                .build());
        // With copy-storage the destination stays paused after the migration (-S), so that its image
        // can be compared with the source's before the guest writes it again.
        vms.create(VmSpec.builder("dst").memory(64 << 20).workload("sweep:16M,rate=20000").device(dstDevice)
                .incoming("defer").paused(copy).build());
        coordinator.setCapability("src", MigrationCapability.COPY_STORAGE, copy);
        await(() -> blk(src).backend().requests() > 500, 30_000, "I/O on the source");
        String sock = dir.resolve("m.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 16 << 20);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.migrate("src", "unix:" + sock);
        await(() -> coordinator.info("src").ram().dirtySyncCount() >= 4 || coordinator.info("src").status().isFinal(),
                60_000, "four passes");
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
        await(() -> coordinator.info("src").status().isFinal() && coordinator.info("dst").status().isFinal(), 60_000,
                "the migration");
        MigrationInfo out = coordinator.info("src");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        Vm dst = vms.get("dst").orElseThrow();
        if (copy) {
            assertEquals(RunState.PAUSED, dst.state());
            assertEquals(-1L, Files.mismatch(image(srcDevice), image(dstDevice)), "the copied image differs");
            dst.cont();
        }
        await(() -> blk(dst).backend().requests() > 300, 30_000, "I/O on the destination");
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        if (!expectClean) {
            assertTrue(!v.clean() && v.summary().contains("WRONG"), "a stale image went unnoticed: " + v);
            return;
        }
        assertTrue(v.clean(), v.toString());
        assertTrue(v.summary().contains("0 errors") && v.summary().contains("as the guest wrote it"), v.summary());
    }

    private static Path image(String device) {
        return Path.of(device.split("image=")[1].split(",")[0]);
    }

    private static VirtioBlk blk(Vm vm) {
        return (VirtioBlk) vm.devices().get(0).device();
    }

    private static void await(BooleanSupplier cond, long timeoutMs, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
