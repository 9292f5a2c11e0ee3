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
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
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
        Watchdog before = (Watchdog) src.devices().get(0).device();
        await(() -> before.pets() > 0, "the guest to pet the watchdog");
        String sock = Files.createTempDirectory("godwit-wd").resolve("w.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.migrate("src", "unix:" + sock);
        await(() -> coordinator.info("dst").status().isFinal(), "the migration");
        assertEquals(MigrationStatus.COMPLETED, coordinator.info("src").status());
        Vm dst = vms.get("dst").orElseThrow();
        Watchdog after = (Watchdog) dst.devices().get(0).device();
        long sourcePets = before.pets(); // final: the source is stopped
        // The count went on from the source's (the state round trip itself is WatchdogStateTest's).
        await(() -> after.pets() > sourcePets, "the guest to pet it on the destination");
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        assertTrue(v.clean(), v.toString());
        assertTrue(dst.devices().get(0).device().describe().contains("fired 0 times"));
        assertEquals(RunState.POSTMIGRATE, src.state());
    }

    @Test
    void aWatchdogNobodyPetsFires() throws Exception {
        Vm vm = vms.create(VmSpec.builder("a").memory(16 << 20).device("watchdog,timeout-ms=50,pet=off").build());
        Watchdog w = (Watchdog) vm.devices().get(0).device();
        await(() -> w.fired() > 0, "the watchdog to fire");
        vm.stop(RunState.PAUSED);
        assertFalse(vm.check().clean(), vm.check().toString());
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
