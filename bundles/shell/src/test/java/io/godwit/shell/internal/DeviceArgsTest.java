package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceArgsTest {

    @Test
    void everyDeviceIsTakenOutOfThePositionals() {
        DeviceArgs a = DeviceArgs.split("g", "--device", "virtio-net,rx-rate=5", "--device", "virtio-blk,image=/d");
        assertEquals(List.of("virtio-net,rx-rate=5", "virtio-blk,image=/d"), a.devices());
        assertArrayEquals(new String[] {"g"}, a.rest());
    }

    @Test
    void aDeviceWithoutItsSpecIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DeviceArgs.split("g", "--device"));
        assertThrows(IllegalArgumentException.class, () -> DeviceArgs.split("g", "--device", "--paused"));
    }
}
