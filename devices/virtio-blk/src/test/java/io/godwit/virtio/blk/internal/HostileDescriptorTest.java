package io.godwit.virtio.blk.internal;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A guest that points a request's data descriptor outside RAM must get a broken queue (info devices,
 * vm_check), not an I/O thread that died silently with the device still claiming to run.
 */
class HostileDescriptorTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Path dir;

    HostileDescriptorTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioBlkFactory(), Map.of(DeviceFactory.NAME, VirtioBlkFactory.TYPE));
        dir = Files.createTempDirectory("godwit-blk-hostile");
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    @Test
    void aDataDescriptorOutsideRamBreaksTheQueueVisibly() throws Exception {
        Vm vm = vms.create(VmSpec.builder("hostile").memory(32 << 20).workload("sweep:4M,rate=1000")
                .device("virtio-blk,image=" + dir.resolve("disk.img") + ",size=1048576").build());
        VirtioBlk blk = (VirtioBlk) vm.devices().get(0).device();
        await(() -> blk.backend().requests() > 0, "I/O before the attack");
        vm.stop(RunState.PAUSED);
        BlkLayout l = blk.layout();
        MemorySegment ram = vm.memory().blockAt(0).raw();
        for (int s = 0; s < l.slots(); s++) { // what a hostile guest driver may write
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), l.desc() + 16L * (3 * s + 1),
                    1L << 40);
        }
        vm.cont();
        await(() -> blk.backend().broken() != null, "the queue to break");
        assertTrue(blk.backend().broken().contains("outside guest RAM"), blk.backend().broken());
        assertTrue(blk.describe().contains("BROKEN"), blk.describe());
        vm.stop(RunState.PAUSED);
        OracleVerdict v = vm.check();
        assertFalse(v.clean(), v.toString());
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
