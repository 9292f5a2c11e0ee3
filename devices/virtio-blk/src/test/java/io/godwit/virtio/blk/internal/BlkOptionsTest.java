package io.godwit.virtio.blk.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What vm_create does with the image: bad options are refused before anything touches it (no file
 * appears); an image Godwit creates holds the guest's disk, so it is owner-only whatever the umask;
 * one the user made keeps the mode it has. Under the usual umask 022, a created image took 0644.
 */
class BlkOptionsTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    @TempDir
    Path dir;

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

    @Test
    void anImageGodwitCreatesIsOwnerOnly() throws Exception {
        Path image = dir.resolve("new.img");
        create("fresh", image);
        assertEquals("rw-------", mode(image));
        assertEquals(1 << 20, Files.size(image));
    }

    @Test
    void anExistingImageKeepsItsMode() throws Exception {
        Path image = Files.write(dir.resolve("mine.img"), new byte[1 << 20]);
        Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("rw-r-----"));
        create("existing", image);
        assertEquals("rw-r-----", mode(image));
        assertEquals(1 << 20, Files.size(image));
    }

    private void create(String name, Path image) {
        vms.create(VmSpec.builder(name).memory(32 << 20).workload("sweep:4M,rate=1000").paused(true)
                .device("virtio-blk,image=" + image + ",size=1048576").build());
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
