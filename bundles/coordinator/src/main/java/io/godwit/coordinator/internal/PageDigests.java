package io.godwit.coordinator.internal;

import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * verify-ram, incremental: a 64-bit digest per page, taken as the page goes out (source) or comes
 * in (destination), and a whole-RAM value kept as two sums over every page's digest. Replacing a
 * page's digest subtracts the old one, so the whole value costs nothing at the switchover: only the
 * final dirty pages are hashed then, as they are sent and loaded, and the stop-and-copy pays for
 * them alone, not for all of RAM.
 *
 * <p>Why a lost, stale or corrupted page still changes the result (docs/verify-ram.md has the long
 * form): each page's digest mixes its page number with its bytes, and the whole value is the sum over
 * all pages of the digest each side holds for that page <em>now</em>. A page the destination never
 * received keeps its initial digest 0 there; a page loaded twice with the older copy last holds the
 * older copy's digest; a page corrupted in transit holds the digest of the corrupted bytes. Each
 * differs from the source's digest for that page, so the sums differ unless another page's difference
 * cancels it exactly: a chance of 2^-64 per lane for an error that is not built to do so. A page sent
 * twice cannot count twice: its second digest replaces the first.
 *
 * <p>Not cryptographic, and it checks the migration, not the dirty tracker: a guest write the tracker
 * missed is not resent, so both sides hold the same stale digest (the oracles and the tracker kit
 * catch that class of bug).
 *
 * <p>One thread writes (the migration's sender or loader); {@link #value} is read by the same thread.
 */
final class PageDigests {

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long M1 = 0x9E3779B97F4A7C15L;
    private static final long M2 = 0xC2B2AE3D27D4EB4FL;
    private static final long M3 = 0x165667B19E3779F9L;
    private static final MemorySegment ZERO = java.lang.foreign.Arena.global().allocate(RamBlock.PAGE_SIZE);
    private static final long ZERO_CONTENT = content(ZERO, 0);

    private final long[] digest;
    private long sumA;
    private long sumB;
    private long nanos;
    private long pages;

    PageDigests(long pageCount) {
        this.digest = new long[Math.toIntExact(pageCount)];
    }

    /** A normal page: its bytes at {@code offset} of {@code segment} (the page as sent or as loaded). */
    void page(long page, MemorySegment segment, long offset) {
        long t0 = System.nanoTime();
        set(page, mix(page, content(segment, offset)));
        nanos += System.nanoTime() - t0;
        pages++;
    }

    /** A page of zeros. */
    void zero(long page) {
        set(page, mix(page, ZERO_CONTENT));
    }

    private void set(long page, long d) {
        int i = (int) page;
        long old = digest[i];
        sumA += d - old;
        sumB += lane(d) - lane(old);
        digest[i] = d;
    }

    /** The whole-RAM value: 16 bytes. */
    byte[] value() {
        return ByteBuffer.allocate(16).putLong(sumA).putLong(sumB).array();
    }

    /** Time spent hashing pages so far, in ns. */
    long nanos() {
        return nanos;
    }

    /** Measured cost of one page's digest in ns, or {@code fallback} before enough pages. */
    double nanosPerPage(double fallback) {
        return pages < 64 ? fallback : (double) nanos / pages;
    }

    /** The second lane: another function of the digest, so an error must cancel in both sums at once. */
    private static long lane(long d) {
        return d == 0 ? 0 : Long.rotateLeft(d * M3, 29) ^ d;
    }

    /** A page's digest: never 0, which stands for "no page here yet". */
    private static long mix(long page, long content) {
        long h = (content ^ Long.rotateLeft(page * M1, 17)) * M2;
        h ^= h >>> 31;
        return h == 0 ? 1 : h;
    }

    /** The page's bytes: 4 independent multiply-rotate lanes, at memory speed. */
    private static long content(MemorySegment s, long off) {
        long a = 1, b = 2, c = 3, d = 4;
        for (long end = off + RamBlock.PAGE_SIZE; off < end; off += 32) {
            a = Long.rotateLeft(a + s.get(LONG, off) * M2, 31) * M1;
            b = Long.rotateLeft(b + s.get(LONG, off + 8) * M2, 31) * M1;
            c = Long.rotateLeft(c + s.get(LONG, off + 16) * M2, 31) * M1;
            d = Long.rotateLeft(d + s.get(LONG, off + 24) * M2, 31) * M1;
        }
        return Long.rotateLeft(a, 1) + Long.rotateLeft(b, 7) + Long.rotateLeft(c, 12) + Long.rotateLeft(d, 18);
    }
}
