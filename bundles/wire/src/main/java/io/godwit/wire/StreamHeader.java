package io.godwit.wire;

import java.nio.ByteBuffer;

/**
 * The stream header: magic {@code GDWT}, the stream version and reserved flags. A destination accepts
 * versions {@link #MIN_VERSION} to {@link #VERSION}.
 */
public final class StreamHeader {

    public static final int MAGIC = 0x47445754; // "GDWT"
    public static final int VERSION = 1;
    public static final int MIN_VERSION = 1;
    public static final int LENGTH = 12;

    private StreamHeader() {}

    static void write(ByteBuffer out) {
        out.putInt(MAGIC).putInt(VERSION).putInt(0);
    }

    /** Checks a header and returns its version. */
    static int check(ByteBuffer in) throws WireException {
        int magic = in.getInt();
        if (magic != MAGIC) {
            throw new WireException(String.format("not a Godwit migration stream (magic 0x%08x)", magic));
        }
        int version = in.getInt();
        if (version < MIN_VERSION || version > VERSION) {
            throw new WireException("stream version " + version + " is not supported (" + MIN_VERSION + ".."
                    + VERSION + ")");
        }
        int flags = in.getInt();
        if (flags != 0) {
            throw new WireException(String.format("unknown stream flags 0x%x", flags));
        }
        return version;
    }
}
