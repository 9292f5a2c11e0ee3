package io.godwit.coordinator.internal;

import io.godwit.wire.WireException;

/**
 * QEMU's XBZRLE encoding (migration/xbzrle.c): a page as the runs in which it differs from an older
 * copy. The encoding is a sequence of {@code zrun nzrun bytes}: the length of a run of unchanged bytes,
 * the length of the run of changed bytes after it (both ULEB128, at most two bytes for a 4 KiB page),
 * then the changed bytes; a last unchanged run is left out.
 *
 * <p>Decoding treats the delta as hostile: every length is checked against the page and against the
 * delta before a byte is written, so a delta never writes outside its page. Stateless; any thread.
 */
final class XbzrleCodec {

    /** {@link #encode}: the page did not change. */
    static final int UNCHANGED = 0;
    /** {@link #encode}: the encoding would not fit {@code dst}: send the page whole. */
    static final int OVERFLOW = -1;

    private XbzrleCodec() {}

    /**
     * Encodes {@code page} against {@code old} (both {@code length} bytes from their offsets) into
     * {@code dst}; returns the encoding's length, {@link #UNCHANGED} or {@link #OVERFLOW}.
     */
    static int encode(byte[] old, int oldOff, byte[] page, int pageOff, int length, byte[] dst, int dstOff, int dlen) {
        int d = 0;
        int i = 0;
        while (i < length) {
            int same = java.util.Arrays.mismatch(old, oldOff + i, oldOff + length, page, pageOff + i, pageOff + length);
            if (same < 0) {
                return i == 0 ? UNCHANGED : d; // the rest is unchanged: the last zero run is left out
            }
            int zrun = same;
            i += zrun;
            int nzrun = 0;
            while (i + nzrun < length && old[oldOff + i + nzrun] != page[pageOff + i + nzrun]) {
                nzrun++;
            }
            if (d + uleb(zrun) + uleb(nzrun) + nzrun > dlen) {
                return OVERFLOW;
            }
            d = putUleb(dst, dstOff + d, zrun) - dstOff;
            d = putUleb(dst, dstOff + d, nzrun) - dstOff;
            System.arraycopy(page, pageOff + i, dst, dstOff + d, nzrun);
            d += nzrun;
            i += nzrun;
        }
        return d;
    }

    /**
     * Applies the delta {@code src[srcOff, srcOff + slen)} to {@code page} ({@code plen} bytes from
     * {@code pageOff}) in place, as QEMU's xbzrle_decode_buffer: every run must be non-empty (but the
     * first unchanged one) and inside the page, every length inside the delta.
     *
     * @throws WireException naming what is wrong, before writing outside the page
     */
    static void decode(byte[] src, int srcOff, int slen, byte[] page, int pageOff, int plen) throws WireException {
        int i = 0;
        int d = 0;
        while (i < slen) {
            boolean first = i == 0;
            long zrun = uleb(src, srcOff + i, slen - i);
            i += (int) (zrun >>> 32);
            int z = (int) zrun;
            if (z == 0 && !first) {
                throw new WireException("XBZRLE delta: an empty unchanged run inside the delta");
            }
            d += z;
            if (d > plen) {
                throw new WireException("XBZRLE delta: an unchanged run past the end of the page");
            }
            long nzrun = uleb(src, srcOff + i, slen - i);
            i += (int) (nzrun >>> 32);
            int n = (int) nzrun;
            if (n == 0) {
                throw new WireException("XBZRLE delta: an empty changed run");
            }
            if (n > plen - d || n > slen - i) {
                throw new WireException("XBZRLE delta: a changed run of " + n + " bytes past the end of the "
                        + (n > plen - d ? "page" : "delta"));
            }
            System.arraycopy(src, srcOff + i, page, pageOff + d, n);
            d += n;
            i += n;
        }
    }

    /** A ULEB128 of at most two bytes (values below 16384): the value in the low half, its length in the high. */
    private static long uleb(byte[] src, int at, int left) throws WireException {
        if (left < 1) {
            throw new WireException("XBZRLE delta: it ends inside a run length");
        }
        int b0 = src[at] & 0xff;
        if (b0 < 0x80) {
            return (1L << 32) | b0;
        }
        if (left < 2 || (src[at + 1] & 0x80) != 0) {
            throw new WireException("XBZRLE delta: a run length longer than two bytes or cut off");
        }
        return (2L << 32) | (b0 & 0x7f) | ((src[at + 1] & 0xff) << 7);
    }

    private static int uleb(int value) {
        return value < 0x80 ? 1 : 2;
    }

    private static int putUleb(byte[] dst, int at, int value) {
        if (value < 0x80) {
            dst[at] = (byte) value;
            return at + 1;
        }
        dst[at] = (byte) (0x80 | (value & 0x7f));
        dst[at + 1] = (byte) (value >>> 7);
        return at + 2;
    }
}
