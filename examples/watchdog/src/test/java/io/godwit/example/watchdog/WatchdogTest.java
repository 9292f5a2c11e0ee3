package io.godwit.example.watchdog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
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
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watchdog's timer migrates: it keeps counting on the destination and does not fire. */
class WatchdogTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator = new Coordinator(vms);

    WatchdogTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new WatchdogFactory(), Map.of(DeviceFactory.NAME, "watchdog"));
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void aPettedWatchdogMigratesWithoutFiring() throws Exception {
        String dev = "watchdog,timeout-ms=10000";
        Vm src = vms.create(VmSpec.builder("src").memory(16 << 20).workload("sweep:8M,rate=5000").device(dev).build());
        vms.create(VmSpec.builder("dst").memory(16 << 20).workload("sweep:8M,rate=5000").device(dev)
                .incoming("defer").build());
        Thread.sleep(200);
        String sock = Files.createTempDirectory("godwit-wd").resolve("w.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.migrate("src", "unix:" + sock);
        long deadline = System.currentTimeMillis() + 60_000;
        while (!coordinator.info("dst").status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(MigrationStatus.COMPLETED, coordinator.info("src").status());
        Vm dst = vms.get("dst").orElseThrow();
        Thread.sleep(200);
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        assertTrue(v.clean(), v.toString());
        assertTrue(dst.devices().get(0).device().describe().contains("fired 0 times"));
        assertEquals(RunState.POSTMIGRATE, src.state());
    }

    @Test
    void aWatchdogNobodyPetsFires() throws Exception {
        Vm vm = vms.create(VmSpec.builder("a").memory(16 << 20).device("watchdog,timeout-ms=50,pet=off").build());
        long deadline = System.currentTimeMillis() + 30_000;
        while (!vm.devices().get(0).device().describe().contains("fired 1 times")
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        vm.stop(RunState.PAUSED);
        assertFalse(vm.check().clean(), vm.check().toString());
    }
}
