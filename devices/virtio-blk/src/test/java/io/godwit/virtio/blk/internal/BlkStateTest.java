package io.godwit.virtio.blk.internal;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceFactory;
import io.godwit.coordinator.internal.DeviceStateContract;
import java.nio.file.Path;

/** virtio-blk (shared storage) against the device test kit: it has no optional subsection. */
class BlkStateTest extends DeviceStateContract {

    @Override
    protected DeviceFactory factory() {
        return new VirtioBlkFactory();
    }

    @Override
    protected String type() {
        return VirtioBlkFactory.TYPE;
    }

    @Override
    protected String options(Path dir) {
        return "image=" + dir.resolve("kit.img") + ",size=1048576";
    }

    @Override
    protected String subsectionOptions(Path dir) {
        return null;
    }

    @Override
    protected void awaitActive(Device device) throws InterruptedException {
        VirtioBlk blk = (VirtioBlk) device;
        long before = blk.backend().requests();
        await(() -> blk.backend().requests() > before, "I/O");
    }
}
