package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The state saves the downtime estimate charges, measured on a running guest. */
class SaveCostsTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    SaveCostsTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(TestDevice.factory(), Map.of(DeviceFactory.NAME, TestDevice.TYPE));
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    @Test
    void vcpusAreMeasuredWhileTheGuestRunsAndDevicesByTheirLastSave() throws Exception {
        Vm vm = vms.create(VmSpec.builder("v").memory(16 << 20).vcpus(64).workload("sweep:8M")
                .device("test-dev,fields=3").device("test-dev,fields=1").build());
        long vcpus = SaveCosts.vcpusNanos(vm);
        assertTrue(vcpus > 0, vcpus + " ns for 64 vCPUs");
        System.out.printf("64 vCPU state saves, STATE sections included: %d us%n", vcpus / 1000);
        assertEquals(RunState.RUNNING, vm.state(), "measured without stopping the guest");

        SaveCosts costs = new SaveCosts();
        assertEquals(2 * 700, costs.devicesNanos(vm, 700), "a type never saved here costs a vCPU save");
        costs.deviceSaved(vm.devices().get(0), 5_000);
        assertEquals(2 * 5_000, costs.devicesNanos(vm, 700), "then its last save, for every device of the type");
    }
}
