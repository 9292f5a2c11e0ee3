package io.godwit.coordinator.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.migration.MigrationInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The source's XBZRLE (QEMU's migration/xbzrle.c and page_cache.c): a cache of the pages as last sent,
 * direct-mapped by page number (a newer page takes an older one's slot), and the choice for each page:
 * a delta against its cached copy, the page whole, or nothing when it did not change. It starts after
 * the first full pass, as QEMU's: until then every page goes once anyway.
 *
 * <p>What the destination holds must equal the cached copy, so a page is copied out of guest memory
 * once ({@link #snapshot}) and the copy is both what is sent (whole or as a delta) and what is cached: a
 * guest writing the page meanwhile dirties it again, and it goes again next pass. A page sent as zero
 * leaves the cache, so a stale copy is never a base.
 *
 * <p>On the migration thread only; the counters are read by {@code info migrate} from any thread.
 */
final class Xbzrle {

    /** {@link #encode}'s outcomes besides a delta's length. */
    static final int UNCHANGED = XbzrleCodec.UNCHANGED;
    static final int WHOLE = -1;

    private static final int PAGE = RamBlock.PAGE_SIZE;

    private final long cacheSize;
    private final long[] keys;
    private final byte[] cache;
    private final int mask;
    private final byte[] page = new byte[PAGE];
    private final MemorySegment pageSegment = MemorySegment.ofArray(page);
    private final byte[] delta = new byte[PAGE];
    private boolean enabled;

    private volatile long pages;
    private volatile long bytes;
    private volatile long misses;
    private volatile long lookups;
    private volatile long overflows;

    /** @param cacheSize bytes, a power of two of at least a page */
    Xbzrle(long cacheSize) {
        this.cacheSize = cacheSize;
        int slots = (int) (cacheSize / PAGE);
        this.keys = new long[slots];
        java.util.Arrays.fill(keys, -1);
        this.cache = new byte[Math.multiplyExact(slots, PAGE)];
        this.mask = slots - 1;
    }

    /** After the first full pass: from now on pages go through the cache. */
    void enable() {
        enabled = true;
    }

    boolean enabled() {
        return enabled;
    }

    /**
     * Copies {@code page} out of guest memory and decides: {@link #UNCHANGED} (send nothing), {@link #WHOLE}
     * (send {@link #snapshot()}: a cache miss, or a delta no smaller than the page), or the length of the
     * delta in {@link #delta()}. The cache holds the copy afterwards.
     */
    int encode(long pageNumber, MemorySegment raw, long offset) {
        MemorySegment.copy(raw, ValueLayout.JAVA_BYTE, offset, pageSegment, ValueLayout.JAVA_BYTE, 0, PAGE);
        int slot = (int) (pageNumber & mask);
        int at = slot * PAGE;
        lookups++;
        if (keys[slot] != pageNumber) {
            misses++;
            keys[slot] = pageNumber;
            System.arraycopy(page, 0, cache, at, PAGE);
            return WHOLE;
        }
        int n = XbzrleCodec.encode(cache, at, page, 0, PAGE, delta, 0, PAGE - 1);
        if (n == XbzrleCodec.UNCHANGED) {
            return UNCHANGED;
        }
        System.arraycopy(page, 0, cache, at, PAGE);
        if (n == XbzrleCodec.OVERFLOW) {
            overflows++;
            return WHOLE;
        }
        pages++;
        bytes += n;
        return n;
    }

    /** A page went as zero: its cached copy, if any, is no base any more. */
    void zeroSent(long pageNumber) {
        int slot = (int) (pageNumber & mask);
        if (keys[slot] == pageNumber) {
            keys[slot] = -1;
        }
    }

    /** The page {@link #encode} copied last. */
    byte[] snapshot() {
        return page;
    }

    MemorySegment snapshotSegment() {
        return pageSegment;
    }

    /** The delta {@link #encode} made last. */
    byte[] delta() {
        return delta;
    }

    /** QEMU's xbzrle-cache figures; the rates over the whole migration. */
    MigrationInfo.XbzrleStats stats() {
        long b = bytes;
        long l = lookups;
        return new MigrationInfo.XbzrleStats(cacheSize, b, pages, misses, l == 0 ? 0 : (double) misses / l,
                b == 0 ? 0 : (double) pages * PAGE / b, overflows);
    }
}
