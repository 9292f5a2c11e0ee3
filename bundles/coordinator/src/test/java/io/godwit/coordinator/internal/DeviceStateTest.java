package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Device state through real migrations: versions, subsections, truncation. A bad device state fails
 * the migration with the device's name; the destination never runs; the source runs on.
 */
class DeviceStateTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    DeviceStateTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(TestDevice.factory(), Map.of(DeviceFactory.NAME, TestDevice.TYPE));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-dev");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private MigrationInfo migrate(String srcDevice, String dstDevice) throws Exception {
        return migrate(srcDevice, dstDevice, false);
    }

    private MigrationInfo migrate(String srcDevice, String dstDevice, boolean copyStorage) throws Exception {
        vms.create(VmSpec.builder("src").memory(16 << 20).workload("sweep:8M,rate=5000").device(srcDevice).build());
        coordinator.setCapability("src", MigrationCapability.COPY_STORAGE, copyStorage);
        vms.create(VmSpec.builder("dst").memory(16 << 20).workload("sweep:8M,rate=5000").device(dstDevice)
                .incoming("defer").build());
        String sock = dir.resolve("d.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.migrate("src", "unix:" + sock);
        long deadline = System.currentTimeMillis() + 60_000;
        while (!(coordinator.info("src").status().isFinal() && coordinator.info("dst").status().isFinal())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return coordinator.info("src");
    }

    private TestDevice dstDevice() {
        return (TestDevice) vms.get("dst").orElseThrow().devices().get(0).device();
    }

    private void assertRefused(MigrationInfo out, String... words) throws Exception {
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        for (String w : words) {
            assertTrue(out.error().contains(w), out.error());
        }
        Vm src = vms.get("src").orElseThrow();
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), src.check().toString());
    }

    private void assertMigratedClean() throws Exception {
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    @Test
    void stateRoundTripsThroughAMigration() throws Exception {
        MigrationInfo out = migrate("test-dev,fields=3,sub=extra", "test-dev,fields=3,knows=extra");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(1000 + 1001 + 1002, dstDevice().loadedSum);
        assertEquals("from the source", dstDevice().loadedSub);
        assertMigratedClean();
    }

    @Test
    void anOlderStreamWithoutAnOptionalSubsectionLoads() throws Exception {
        MigrationInfo out = migrate("test-dev", "test-dev,version=2,min=1,knows=extra");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertNull(dstDevice().loadedSub);
        assertMigratedClean();
    }

    @Test
    void anUnknownSubsectionIsRefused() throws Exception {
        assertRefused(migrate("test-dev,sub=future", "test-dev"), "dev0 (test-dev)", "unknown subsection 'future'");
    }

    @Test
    void anUnknownVersionIsRefused() throws Exception {
        assertRefused(migrate("test-dev,version=3", "test-dev,version=2,min=1"), "dev0 (test-dev)",
                "state version 3 is not supported");
    }

    @Test
    void aTruncatedFieldIsRefused() throws Exception {
        assertRefused(migrate("test-dev,fields=1", "test-dev,fields=2"), "dev0 (test-dev)", "ends before a long");
    }

    @Test
    void aFailingIterativeStateFailsTheMigrationWithTheDevicesNameAndIsCleanedUp() throws Exception {
        MigrationInfo out = migrate("test-dev,iterative=fail", "test-dev,iterative=fail", true);
        assertRefused(out, "dev0 (test-dev): setup of its iterative state failed", "the disk is gone");
        TestDevice src = (TestDevice) vms.get("src").orElseThrow().devices().get(0).device();
        assertEquals(1, src.cleanups.get(), "cleanup() must run once when the migration ends");
    }

    @Test
    void aDestinationCreatedPausedStaysPausedAfterTheMigration() throws Exception {
        vms.create(VmSpec.builder("src").memory(16 << 20).workload("sweep:8M,rate=5000").device("test-dev").build());
        vms.create(VmSpec.builder("dst").memory(16 << 20).workload("sweep:8M,rate=5000").device("test-dev")
                .paused(true).incoming("defer").build());
        String sock = dir.resolve("p.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.migrate("src", "unix:" + sock);
        long deadline = System.currentTimeMillis() + 60_000;
        while (!coordinator.info("dst").status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(MigrationStatus.COMPLETED, coordinator.info("dst").status());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.PAUSED, dst.state()); // QEMU's -S on the destination: no autostart
        assertTrue(dst.check().clean(), dst.check().toString());
        dst.cont();
        assertEquals(RunState.RUNNING, dst.state());
    }

    @Test
    void aDeviceWritingRamWithoutADirtyLogIsRefusedAtCreation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> vms.create(VmSpec.builder("src").memory(16 << 20).device("test-dev,direct=true").build()));
        assertTrue(e.getMessage().contains("dev0 (test-dev)") && e.getMessage().contains("no dirty log"),
                e.getMessage());
        assertTrue(vms.get("src").isEmpty());
    }
}
