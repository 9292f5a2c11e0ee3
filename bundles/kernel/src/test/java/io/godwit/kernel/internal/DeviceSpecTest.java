package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DeviceSpecTest {

    @Test
    void typeThenOptions() {
        DeviceSpec s = DeviceSpec.parse("virtio-net,rx-rate=1000,id=eth0");
        assertEquals("virtio-net", s.type());
        assertEquals(Map.of("rx-rate", "1000", "id", "eth0"), s.options());
        assertEquals("net", s.idStem());
        assertEquals("watchdog", DeviceSpec.parse("watchdog").idStem());
    }

    @Test
    void badSpecsSayWhy() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parse("rx-rate=5"))
                .getMessage().contains("starts with the device type"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parse("virtio-net,fast"))
                .getMessage().contains("use key=value"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceSpec.parse("virtio-net,a=1,a=2"))
                .getMessage().contains("given twice"));
    }
}
