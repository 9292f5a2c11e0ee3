package io.godwit.coordinator.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * verify-ram: a 128-bit hash of all guest RAM, computed on both sides with the guest stopped. Four
 * independent multiply-rotate lanes keep it at memory speed; it is an integrity check against lost
 * or misplaced pages, not a cryptographic one.
 */
final class RamHash {

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long M1 = 0x9E3779B97F4A7C15L;
    private static final long M2 = 0xC2B2AE3D27D4EB4FL;

    private RamHash() {}

    static byte[] of(GuestMemory memory) {
        long a = 1, b = 2, c = 3, d = 4;
        for (RamBlock block : memory.blocks()) {
            MemorySegment s = block.raw();
            long n = s.byteSize();
            for (long off = 0; off < n; off += 32) {
                a = Long.rotateLeft(a + s.get(LONG, off) * M2, 31) * M1;
                b = Long.rotateLeft(b + s.get(LONG, off + 8) * M2, 31) * M1;
                c = Long.rotateLeft(c + s.get(LONG, off + 16) * M2, 31) * M1;
                d = Long.rotateLeft(d + s.get(LONG, off + 24) * M2, 31) * M1;
            }
            a ^= n;
        }
        long h1 = Long.rotateLeft(a, 1) + Long.rotateLeft(b, 7) * M1;
        long h2 = Long.rotateLeft(c, 12) + Long.rotateLeft(d, 18) * M2;
        return ByteBuffer.allocate(16).putLong(h1 ^ (h2 >>> 29)).putLong(h2 ^ (h1 >>> 31)).array();
    }
}
