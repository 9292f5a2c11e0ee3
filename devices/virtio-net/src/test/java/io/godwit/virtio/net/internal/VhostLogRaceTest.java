package io.godwit.virtio.net.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The guest's DRIVER_OK (vCPU 0) racing the migration's log_global_start / stop (migration thread):
 * whatever the order, vhost must end with VHOST_F_LOG_ALL exactly while the log is on, and neither side
 * may throw. Before the fix, DRIVER_OK computed the features from a stale view of the log and could
 * switch logging off for the whole migration, or ask for LOG_ALL with the base already gone.
 */
class VhostLogRaceTest {

    private static final int ROUNDS = 2_000;

    private final VmManagerImpl vms = new VmManagerImpl();

    VhostLogRaceTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioNetFactory(), Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    /**
     * The deterministic half: a DRIVER_OK in progress on vCPU 0 (it holds the device's monitor) must
     * hold log_global_start off until it is done; then vhost has LOG_ALL.
     */
    @Test
    void logStartWaitsForADriverOkInProgress() throws Exception {
        VirtioNet net = pausedNet();
        Layout l = net.layout();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread migration;
        synchronized (net) { // vCPU 0 inside driverOk
            migration = Thread.ofPlatform().name("test-migration").start(() -> {
                try {
                    net.log().startLogging();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (migration.getState() != Thread.State.BLOCKED) {
                if (migration.getState() == Thread.State.TERMINATED) {
                    throw new AssertionError("log_global_start ran while DRIVER_OK was in progress", failure.get());
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("log_global_start neither blocked nor ended: " + migration.getState());
                }
                Thread.sleep(1);
            }
            net.driverOk(l.desc(), l.avail(), l.used());
        }
        migration.join();
        assertNull(failure.get());
        assertEquals(VhostNet.F_LOG_ALL, net.vhost().features() & VhostNet.F_LOG_ALL);
        net.log().stopLogging();
        assertEquals(0, net.vhost().features() & VhostNet.F_LOG_ALL);
    }

    /** The statistical half: both orders, many rounds, the end state always matches the log switch. */
    @Test
    void driverOkNeverUndoesTheLogSwitch() throws Exception {
        VirtioNet net = pausedNet();
        Layout l = net.layout();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CyclicBarrier go = new CyclicBarrier(2);
        for (int i = 0; i < ROUNDS && failure.get() == null; i++) {
            boolean start = (i & 1) == 0;
            Thread vcpu = Thread.ofPlatform().name("test-vcpu0").start(() -> {
                try {
                    go.await();
                    net.driverOk(l.desc(), l.avail(), l.used());
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            go.await();
            try {
                if (start) {
                    net.log().startLogging();
                } else {
                    net.log().stopLogging();
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            vcpu.join();
            assertNull(failure.get(), "round " + i);
            long logAll = net.vhost().features() & VhostNet.F_LOG_ALL;
            assertEquals(start ? VhostNet.F_LOG_ALL : 0, logAll,
                    "round " + i + ": LOG_ALL after log_global_" + (start ? "start" : "stop"));
        }
    }

    /** A net device whose guest driver has probed, in a paused VM (driverOk then starts nothing). */
    private VirtioNet pausedNet() throws Exception {
        Vm vm = vms.create(VmSpec.builder("race").memory(16 << 20).workload("sweep:4M,rate=1000")
                .device("virtio-net,rx-rate=100").build());
        VirtioNet net = (VirtioNet) vm.devices().get(0).device();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (net.ackedFeatures() == 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the guest driver never wrote DRIVER_OK");
            }
            Thread.sleep(10); // the guest driver probes on vCPU 0
        }
        vm.stop(RunState.PAUSED);
        return net;
    }
}
