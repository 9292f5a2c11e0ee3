package io.godwit.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.state.StateFormatException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StateCodecTest {

    private static byte[] sample() {
        StateEncoder e = new StateEncoder();
        e.writeInt(7);
        e.writeLong(-1L);
        e.writeBoolean(true);
        e.writeDouble(2.5);
        e.writeString("pc");
        e.writeBytes(new byte[] {1, 2, 3});
        e.subsection("extra", s -> s.writeInt(42));
        return e.toByteArray();
    }

    @Test
    void fieldsAndSubsectionsRoundTrip() {
        StateDecoder d = new StateDecoder("dev", sample());
        assertEquals(7, d.readInt());
        assertEquals(-1L, d.readLong());
        assertTrue(d.readBoolean());
        assertEquals(2.5, d.readDouble());
        assertEquals("pc", d.readString(16));
        assertArrayEquals(new byte[] {1, 2, 3}, d.readBytes(16));
        assertEquals(42, d.subsection("extra").orElseThrow().readInt());
        assertTrue(d.subsection("absent").isEmpty());
        d.finish();
    }

    @Test
    void aMistypedFieldNamesItsOwner() {
        StateDecoder d = new StateDecoder("virtio-net", sample());
        StateFormatException e = assertThrows(StateFormatException.class, d::readLong);
        assertTrue(e.getMessage().startsWith("virtio-net: state"), e.getMessage());
    }

    @Test
    void anUnknownSubsectionOrUnreadFieldFailsTheLoad() {
        StateDecoder d = new StateDecoder("dev", sample());
        d.readInt();
        d.readLong();
        d.readBoolean();
        d.readDouble();
        d.readString(16);
        d.readBytes(16);
        assertTrue(assertThrows(StateFormatException.class, d::finish).getMessage().contains("unknown subsection 'extra'"));
        StateDecoder lazy = new StateDecoder("dev", sample());
        lazy.readInt();
        assertTrue(assertThrows(StateFormatException.class, lazy::finish).getMessage().contains("did not read"));
    }

    @Test
    void truncationAndOversizeAreRefused() {
        byte[] full = sample();
        for (int cut = 1; cut < full.length; cut++) {
            byte[] part = Arrays.copyOf(full, cut);
            assertThrows(StateFormatException.class, () -> {
                StateDecoder d = new StateDecoder("dev", part);
                d.readInt();
                d.readLong();
                d.readBoolean();
                d.readDouble();
                d.readString(16);
                d.readBytes(16);
                d.subsection("extra").orElseThrow().readInt();
                d.finish();
            }, "cut at " + cut);
        }
        StateDecoder d = new StateDecoder("dev", sample());
        d.readInt();
        d.readLong();
        d.readBoolean();
        d.readDouble();
        assertThrows(StateFormatException.class, () -> d.readString(1));
    }
}
