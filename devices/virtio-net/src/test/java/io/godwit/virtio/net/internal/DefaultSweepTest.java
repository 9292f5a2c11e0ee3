package io.godwit.virtio.net.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.memory.MemoryReservation;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code --workload sweep} without a size on a VM with a device: the sweep covers the RAM below the
 * device's memory (it failed, saying to give a size), and a size over the device is still refused.
 */
class DefaultSweepTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    DefaultSweepTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioNetFactory(), Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
    }

    @AfterEach
    void close() throws InterruptedException {
        vms.deactivate();
    }

    @Test
    void theDefaultSweepCoversTheRamTheDevicesLeaveFree() throws Exception {
        Vm vm = vms.create(VmSpec.builder("g").memory(32 << 20).vcpus(2).workload("sweep")
                .device("virtio-net,rx-rate=1000").build());
        MemoryReservation net = vm.memory().reservations().getFirst();
        long freePages = net.gpa() / 4096;
        assertTrue(freePages > 0 && net.gpa() + net.size() == vm.memory().size(), net.toString());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (vm.cpus().stream().mapToLong(VcpuInfo::progress).sum() < 3 * freePages) {
            assertTrue(System.nanoTime() < deadline, "the sweep made no pass over its RAM in 60 s");
            Thread.sleep(10);
        }
        vm.stop(RunState.PAUSED);
        var ram = vm.memory().blocks().getFirst().raw();
        assertNotEquals(0, ram.get(ValueLayout.JAVA_BYTE, (freePages - 1) * 4096), "the last free page was never written");
        OracleVerdict v = vm.check();
        assertTrue(v.clean(), v.toString());
        assertTrue(v.pagesChecked() >= freePages, v.toString());
    }

    @Test
    void aSizeOverTheDevicesMemoryIsStillRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> vms.create(VmSpec.builder("g")
                .memory(32 << 20).workload("sweep:32M").device("virtio-net").build()));
        assertTrue(e.getMessage().contains("over net0's memory"), e.getMessage());
        assertEquals(0, vms.list().size());
    }
}
