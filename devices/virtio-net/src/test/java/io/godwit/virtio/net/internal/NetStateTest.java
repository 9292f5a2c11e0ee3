package io.godwit.virtio.net.internal;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceFactory;
import io.godwit.coordinator.internal.DeviceStateContract;
import java.nio.file.Path;

/** virtio-net against the device test kit: its {@code tap} subsection is optional. */
class NetStateTest extends DeviceStateContract {

    @Override
    protected DeviceFactory factory() {
        return new VirtioNetFactory();
    }

    @Override
    protected String type() {
        return VirtioNetFactory.TYPE;
    }

    @Override
    protected String options(Path dir) {
        return "rx-rate=500";
    }

    @Override
    protected String subsectionOptions(Path dir) {
        return "rx-rate=500"; // the tap's sequence once a packet went through
    }

    @Override
    protected void awaitActive(Device device) throws InterruptedException {
        VirtioNet net = (VirtioNet) device;
        long before = net.vhost().packets();
        await(() -> net.vhost().packets() > before, "rx");
    }
}
