package io.godwit.virtio.net.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * The packets the tap's generator sends and the guest driver checks: a virtio-net header (12 bytes,
 * num_buffers = 1) and a frame carrying a sequence number, a payload length, the payload's CRC-32 and
 * a payload derived from the sequence number. A stale or torn buffer shows as a wrong sequence or CRC.
 */
final class Packets {

    static final int VNET_HDR = 12;
    static final int FRAME_HDR = 16;
    static final int MAX_PAYLOAD = Layout.BUFFER_SIZE - VNET_HDR - FRAME_HDR;

    private Packets() {}

    static int payloadLength(long seq) {
        return 64 + (int) Math.floorMod(seq * 131, 1200);
    }

    /** Writes packet {@code seq} into {@code out} (little endian) and returns its length. */
    static int build(long seq, byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        int len = payloadLength(seq);
        b.putLong(0, 0).putShort(8, (short) 0).putShort(10, (short) 1); // virtio_net_hdr_v1: num_buffers 1
        long x = seq * 0x9E3779B97F4A7C15L + 1;
        int p = VNET_HDR + FRAME_HDR;
        for (int i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            out[p + i] = (byte) x;
        }
        CRC32 crc = new CRC32();
        crc.update(out, p, len);
        b.putLong(VNET_HDR, seq).putInt(VNET_HDR + 8, len).putInt(VNET_HDR + 12, (int) crc.getValue());
        return p + len;
    }
}
