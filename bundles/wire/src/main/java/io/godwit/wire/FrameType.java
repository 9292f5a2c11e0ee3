package io.godwit.wire;

/**
 * Frame types with their size limits. A frame is a type byte, a big-endian 32-bit payload length and
 * the payload; a reader refuses a frame longer than its type allows before reading it.
 */
public enum FrameType {
    HELLO(1, 1 << 20),
    SECTION_START(2, 4 << 10),
    RAM_PAGES(3, WireLimits.MAX_RAM_FRAME),
    SECTION_END(4, 1 << 10),
    STATE(5, WireLimits.MAX_STATE_BYTES + (4 << 10)),
    COMMAND(6, 1 << 10),
    COMPLETE(7, 4 << 10),
    RETURN(8, 64 << 10),
    /** Postcopy's discard map: up to 16384 words (a million pages) per frame. */
    DISCARD(9, 132 << 10),
    /** mapped-ram's layout of the RAM blocks in a file ({@code MappedRamLayout}): a few words per block. */
    MAPPED_RAM(10, 8 << 10),
    /**
     * A compressed RAM batch, only on a multifd data channel: a RamBatch header with its codec, then
     * the normal pages compressed, always fewer bytes than the pages.
     */
    MULTIFD_PAGES(15, WireLimits.MAX_RAM_FRAME);

    private final int code;
    private final int maxLength;

    FrameType(int code, int maxLength) {
        this.code = code;
        this.maxLength = maxLength;
    }

    public int code() {
        return code;
    }

    public int maxLength() {
        return maxLength;
    }

    private static final FrameType[] BY_CODE = new FrameType[16];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    /** The type with this code, or a WireException for an unknown one. */
    public static FrameType of(int code) throws WireException {
        FrameType t = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        if (t == null) {
            throw new WireException("unknown frame type " + code);
        }
        return t;
    }
}
