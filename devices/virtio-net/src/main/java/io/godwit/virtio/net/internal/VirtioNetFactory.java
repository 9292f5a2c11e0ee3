package io.godwit.virtio.net.internal;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.DeviceFactory;
import java.util.Map;
import org.osgi.service.component.annotations.Component;

/** Makes virtio-net devices with a vhost-net backend: {@code --device virtio-net,rx-rate=N,...}. */
@Component(property = DeviceFactory.NAME + "=" + VirtioNetFactory.TYPE)
public class VirtioNetFactory implements DeviceFactory {

    public static final String TYPE = "virtio-net";

    @Override
    public Device create(DeviceContext context, Map<String, String> options) {
        return new VirtioNet(context, NetOptions.parse(options));
    }
}
