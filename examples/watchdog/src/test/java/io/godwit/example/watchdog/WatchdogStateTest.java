package io.godwit.example.watchdog;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceFactory;
import io.godwit.coordinator.internal.DeviceStateContract;
import java.nio.file.Path;

/**
 * The watchdog against the device test kit. Its round trip proves the timer migrates: the paused
 * destination saves the same time left and pets the source sent. Its {@code fired} subsection
 * appears once it fired (an unpetted watchdog).
 */
class WatchdogStateTest extends DeviceStateContract {

    @Override
    protected DeviceFactory factory() {
        return new WatchdogFactory();
    }

    @Override
    protected String type() {
        return "watchdog";
    }

    @Override
    protected String options(Path dir) {
        return "timeout-ms=10000";
    }

    @Override
    protected String subsectionOptions(Path dir) {
        return "timeout-ms=50,pet=off";
    }

    @Override
    protected void awaitActive(Device device) throws InterruptedException {
        Watchdog w = (Watchdog) device;
        long pets = w.pets();
        await(() -> w.pets() > pets || w.fired() > 0, "a pet or a firing");
    }
}
