package io.godwit.virtio.net.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
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
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proof of the vhost log: rx traffic at a steady rate through a live migration. Afterwards the
 * guest driver has every packet, in order and intact, the ring indices agree and the sweep oracle
 * finds no bad page. With vhost logging off (the test-only x-vhost-log=off) the same migration must
 * be caught: the device's own checks or the oracle find the stale rings.
 */
class RxMigrationTest {

    private static final String WORKLOAD = "sweep:16M,rate=20000";

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    RxMigrationTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioNetFactory(), Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-net");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void everyPacketArrivesInOrderAcrossALiveMigration() throws Exception {
        MigrationInfo out = migrate("virtio-net,rx-rate=2000");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        Vm dst = vms.get("dst").orElseThrow();
        VirtioNet net = net(dst);
        long before = net.vhost().packets();
        await(() -> net.vhost().packets() > before + 300, 30_000, "rx on the destination");
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        assertTrue(v.clean(), v.toString());
        assertTrue(v.summary().contains("0 errors"), v.summary());
        assertTrue(received(dst) > 1000, v.summary());
        assertTrue(net.describe().contains("announced 1"), net.describe());
    }

    @Test
    void withoutTheVhostLogTheMigrationIsCaughtCorrupting() throws Exception {
        MigrationInfo out = migrate("virtio-net,rx-rate=2000,x-vhost-log=off");
        Vm src = vms.get("src").orElseThrow();
        if (out.status() == MigrationStatus.FAILED) {
            // The destination's load check saw the stale used ring; the source must run on.
            assertTrue(out.error().contains("net0"), out.error());
            System.out.println("negative control caught it at load: " + out.error());
            assertEquals(RunState.RUNNING, src.state());
            assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state()); // it never ran
            return;
        }
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        Vm dst = vms.get("dst").orElseThrow();
        VirtioNet net = net(dst);
        long before = net.vhost().packets();
        await(() -> net.vhost().packets() > before + 300 || net.vhost().broken() != null, 30_000,
                "rx on the destination");
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        assertFalse(v.clean(), "logging off, yet the oracle saw nothing: " + v);
        System.out.println("negative control caught it: " + v);
    }

    private MigrationInfo migrate(String device) throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).workload(WORKLOAD).device(device).build());
        vms.create(VmSpec.builder("dst").memory(64 << 20).workload(WORKLOAD).device(device).incoming("defer").build());
        await(() -> received(src) > 500, 30_000, "rx on the source");
        String sock = dir.resolve("m.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        // Keep it iterating for a few passes while packets land, then let it converge.
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 16 << 20);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.migrate("src", "unix:" + sock);
        await(() -> coordinator.info("src").ram().dirtySyncCount() >= 4 || coordinator.info("src").status().isFinal(),
                60_000, "four passes");
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
        await(() -> coordinator.info("src").status().isFinal(), 60_000, "the migration to end");
        await(() -> coordinator.info("dst").status().isFinal(), 10_000, "the destination to end");
        return coordinator.info("src");
    }

    private static VirtioNet net(Vm vm) {
        return (VirtioNet) vm.devices().get(0).device();
    }

    /** Packets the guest driver received in order so far (its counter in guest RAM). */
    private static long received(Vm vm) {
        VirtioNet n = net(vm);
        return vm.memory().blockAt(0).raw().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED,
                n.layout().driverState() + NetDriver.NEXT_SEQ);
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
