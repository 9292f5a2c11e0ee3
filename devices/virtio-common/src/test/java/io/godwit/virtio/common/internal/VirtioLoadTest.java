package io.godwit.virtio.common.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.state.StateFormatException;
import org.junit.jupiter.api.Test;

class VirtioLoadTest {

    @Test
    void onlyTheStatusBitsOfTheSpecAreTaken() {
        for (int ok : new int[] {0, 0x0f, 0x01 | 0x02, 0x80, 0x4f}) {
            assertDoesNotThrow(() -> VirtioLoad.checkStatus(ok));
        }
        for (int bad : new int[] {0x10, 0x20, -1, 0x100, Integer.MIN_VALUE}) {
            var e = assertThrows(StateFormatException.class, () -> VirtioLoad.checkStatus(bad));
            assertTrue(e.getMessage().contains("bits virtio does not define"), e.getMessage());
        }
    }

    @Test
    void theVringBaseMustAgreeWithTheGuestsIndices() {
        assertDoesNotThrow(() -> VirtioLoad.checkIndices(0, 16, 20, 10, 16)); // 4 heads pending, 6 in use
        assertDoesNotThrow(() -> VirtioLoad.checkIndices(0, 16, 3, 0xfff8, 0xfffe)); // across the wrap
        assertDoesNotThrow(() -> VirtioLoad.checkIndices(0, 16, 32, 16, 16)); // a full ring of heads
        // the base ahead of what the guest made available
        assertThrows(StateFormatException.class, () -> VirtioLoad.checkIndices(0, 16, 16, 16, 17));
        // more than a ring of heads
        assertThrows(StateFormatException.class, () -> VirtioLoad.checkIndices(0, 16, 33, 16, 16));
        // more than a ring in flight
        var e = assertThrows(StateFormatException.class, () -> VirtioLoad.checkIndices(1, 16, 32784, 0, 32784));
        assertTrue(e.getMessage().startsWith("VQ 1 size 0x10"), e.getMessage());
    }
}
