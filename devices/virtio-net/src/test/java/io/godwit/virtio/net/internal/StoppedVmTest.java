package io.godwit.virtio.net.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A VM the kernel stops (guest error, a departing bundle) stops its devices' workers too. */
class StoppedVmTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final SyntheticBackend cpu = new SyntheticBackend();
    private final VirtioNetFactory factory = new VirtioNetFactory();

    StoppedVmTest() {
        vms.addCpuBackend(cpu, Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(factory, Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    @Test
    void aGuestErrorStopsTheVhostWorker() throws Exception {
        VirtioNet net = runningNet("err");
        vms.removeCpuBackend(cpu, Map.of(CpuBackend.NAME, "synthetic")); // guest error on every VM using it
        assertEquals(RunState.GUEST_ERROR, vms.get("err").orElseThrow().state());
        await(() -> !net.vhost().running(), "the vhost worker to stop after the guest error");
        long packets = net.vhost().packets();
        assertFalse(net.vhost().running());
        assertEquals(packets, net.vhost().packets()); // nothing delivers into a stopped guest
    }

    @Test
    void aRemovedDeviceTypeHasNoWorkerLeftWhenRemovalReturns() throws Exception {
        VirtioNet net = runningNet("gone");
        vms.removeDeviceFactory(factory, Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
        assertEquals(RunState.GUEST_ERROR, vms.get("gone").orElseThrow().state());
        assertFalse(net.vhost().running(), "a worker of the departed bundle still runs");
    }

    private VirtioNet runningNet(String name) throws Exception {
        Vm vm = vms.create(VmSpec.builder(name).memory(16 << 20).workload("sweep:4M,rate=1000")
                .device("virtio-net,rx-rate=500").build());
        VirtioNet net = (VirtioNet) vm.devices().get(0).device();
        await(() -> net.vhost().packets() > 0, "rx");
        return net;
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
