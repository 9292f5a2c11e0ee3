package io.godwit.virtio.blk.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bad options are refused at vm_create before anything touches the image: no file appears. */
class BlkOptionsTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    BlkOptionsTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioBlkFactory(), Map.of(DeviceFactory.NAME, VirtioBlkFactory.TYPE));
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    @Test
    void aBadQueueDepthOrBaseIsRefusedBeforeTheImageExists() throws Exception {
        Path img = Files.createTempDirectory("godwit-blkopt").resolve("never.img");
        for (String bad : new String[] {"queue-depth=0", "queue-depth=99", "base=4097"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> vms.create(
                    VmSpec.builder("b").memory(16 << 20).workload("sweep:4M")
                            .device("virtio-blk,image=" + img + "," + bad).build()));
            assertTrue(e.getMessage().contains("blk0") && e.getMessage().contains(bad.split("=")[0]), e.getMessage());
            assertFalse(Files.exists(img), "the image was created for " + bad);
        }
    }
}
