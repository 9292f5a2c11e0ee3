package io.godwit.virtio.net.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A guest that points its rx descriptors outside RAM must get a broken queue (info devices, vm_check),
 * not a vhost worker that died silently with the device still claiming to run.
 */
class HostileDescriptorTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    HostileDescriptorTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioNetFactory(), Map.of(DeviceFactory.NAME, VirtioNetFactory.TYPE));
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    @Test
    void aDescriptorOutsideRamBreaksTheQueueVisibly() throws Exception {
        Vm vm = vms.create(VmSpec.builder("hostile").memory(16 << 20).workload("sweep:4M,rate=1000")
                .device("virtio-net,rx-rate=500").build());
        VirtioNet net = (VirtioNet) vm.devices().get(0).device();
        await(() -> net.vhost().packets() > 0, "rx before the attack");
        vm.stop(RunState.PAUSED);
        Layout l = net.layout();
        MemorySegment ram = vm.memory().blockAt(0).raw();
        for (int i = 0; i < l.queueSize(); i++) { // what a hostile guest driver may write
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                    l.desc() + (long) i * Layout.DESC_SIZE, 1L << 40);
        }
        vm.cont();
        await(() -> net.vhost().broken() != null, "the queue to break");
        assertTrue(net.vhost().broken().contains("outside guest RAM"), net.vhost().broken());
        assertTrue(net.describe().contains("BROKEN"), net.describe());
        vm.stop(RunState.PAUSED);
        OracleVerdict v = vm.check();
        assertFalse(v.clean(), v.toString());
        assertTrue(v.toString().contains("vhost queue broken"), v.toString());
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
