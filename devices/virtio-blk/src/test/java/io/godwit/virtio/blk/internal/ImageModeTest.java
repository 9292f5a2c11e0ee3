package io.godwit.virtio.blk.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk image holds the guest's disk: one that Godwit creates is owner-only whatever the umask; one
 * the user made keeps the mode it has. Run under the usual umask 022, the first fails where the image
 * takes its mode from the umask.
 */
class ImageModeTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    @TempDir
    Path dir;

    ImageModeTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(new VirtioBlkFactory(), Map.of(DeviceFactory.NAME, VirtioBlkFactory.TYPE));
    }

    @AfterEach
    void close() throws InterruptedException {
        vms.deactivate();
    }

    @Test
    void anImageGodwitCreatesIsOwnerOnly() throws Exception {
        Path image = dir.resolve("new.img");
        create("fresh", image);
        assertEquals("rw-------", mode(image));
        assertEquals(1 << 20, Files.size(image));
    }

    @Test
    void anExistingImageKeepsItsModeAndItsBytes() throws Exception {
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

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
