package io.godwit.example.watchdog;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.DeviceFactory;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * {@code --device watchdog[,timeout-ms=N][,pet=off]}: a third-party device. Drop this bundle into a
 * host's {@code deploy/} and the type appears; {@code pet=off} makes a guest that never pets it.
 */
@Component(property = DeviceFactory.NAME + "=watchdog")
public class WatchdogFactory implements DeviceFactory {

    @Override
    public Device create(DeviceContext context, Map<String, String> options) {
        for (String k : options.keySet()) {
            if (!Set.of("timeout-ms", "pet").contains(k)) {
                throw new IllegalArgumentException("unknown option '" + k + "' (known: timeout-ms, pet)");
            }
        }
        long timeout;
        try {
            timeout = Long.parseLong(options.getOrDefault("timeout-ms", "1000"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("timeout-ms is not a number: " + options.get("timeout-ms"));
        }
        if (timeout < 10 || timeout > 3_600_000) {
            throw new IllegalArgumentException("timeout-ms must be 10 to 3600000: " + timeout);
        }
        return new Watchdog(context, timeout, !"off".equals(options.get("pet")));
    }
}
