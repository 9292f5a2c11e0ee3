package io.godwit.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
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

    /** Reads state laid out as sample() is, and checks it was read whole. */
    private static void load(byte[] state) {
        StateDecoder d = new StateDecoder("dev", state);
        d.readInt();
        d.readLong();
        d.readBoolean();
        d.readDouble();
        d.readString(16);
        d.readBytes(16);
        d.subsection("extra").ifPresent(StateInput::readInt);
        d.finish();
    }

    @Test
    void truncationAndOversizeAreRefused() {
        byte[] full = sample();
        for (int cut = 1; cut < full.length; cut++) {
            byte[] part = Arrays.copyOf(full, cut);
            assertThrows(StateFormatException.class, () -> load(part), "cut at " + cut);
        }
        StateDecoder d = new StateDecoder("dev", sample());
        d.readInt();
        d.readLong();
        d.readBoolean();
        d.readDouble();
        assertThrows(StateFormatException.class, () -> d.readString(1));
    }

    /** Where sample() keeps its lengths and counts: string, bytes, subsection count, name, subsection. */
    private static final int[] LENGTH_FIELDS = {26, 33, 41, 45, 54};
    /** 0, -1, 2^31-1, 2^31, 2^32-1 and the values whose sum with a field's 5 header bytes overflows. */
    private static final int[] BOUNDARY = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x7ffffffb, 0x7ffffffc,
        0xfffffffb, 1, 2, 3, 4, 5};

    /**
     * Every length and count of the layout, set to a boundary value: the load either reads the state or
     * refuses it with a StateFormatException, never another exception (a length near 2^31 used to
     * overflow the field's size to a negative number and throw IllegalArgumentException).
     */
    @Test
    void boundaryValuesInEveryLengthAndCountAreRefusedAsStateFormatErrors() {
        byte[] full = sample();
        assertEquals(2, java.nio.ByteBuffer.wrap(full).getInt(26), "the layout moved: update LENGTH_FIELDS");
        assertEquals(1, java.nio.ByteBuffer.wrap(full).getInt(41));
        int refused = 0;
        for (int at : LENGTH_FIELDS) {
            for (int value : BOUNDARY) {
                byte[] b = full.clone();
                java.nio.ByteBuffer.wrap(b).putInt(at, value);
                try {
                    load(b);
                } catch (StateFormatException e) {
                    refused++;
                    assertTrue(e.getMessage().startsWith("dev"), e.getMessage());
                } catch (RuntimeException e) {
                    throw new AssertionError("value " + Integer.toUnsignedString(value) + " at byte " + at
                            + " escaped as " + e, e);
                }
            }
        }
        assertTrue(refused > LENGTH_FIELDS.length * BOUNDARY.length / 2, refused + " refused");
    }
}
