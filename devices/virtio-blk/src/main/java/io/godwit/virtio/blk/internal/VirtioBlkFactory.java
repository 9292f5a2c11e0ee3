package io.godwit.virtio.blk.internal;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.DeviceFactory;
import java.util.Map;
import org.osgi.service.component.annotations.Component;

/** Makes virtio-blk devices on raw image files: {@code --device virtio-blk,image=PATH,...}. */
// image is a path on this host: a destination that takes its shape from the stream maps it (--device-map)
@Component(property = {DeviceFactory.NAME + "=" + VirtioBlkFactory.TYPE, DeviceFactory.LOCAL_OPTIONS + "=image"})
public class VirtioBlkFactory implements DeviceFactory {

    public static final String TYPE = "virtio-blk";

    @Override
    public Device create(DeviceContext context, Map<String, String> options) {
        return new VirtioBlk(context, BlkOptions.parse(options));
    }
}
