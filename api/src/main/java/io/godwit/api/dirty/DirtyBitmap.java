package io.godwit.api.dirty;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One bit per guest page, indexed by guest page frame number (KVM's dirty bitmap; QEMU's
 * {@code ram_list.dirty_memory} and the migration bitmap are the same shape).
 *
 * <p>Setting and harvesting are atomic per word, so vCPU threads may {@link #set} while the
 * migration thread {@link #harvestWord harvests}: a bit set concurrently with a harvest is either in
 * that harvest or stays for the next, never lost.
 */
public final class DirtyBitmap {

    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long pages;
    private final long[] words;

    /** An empty bitmap for {@code pages} pages. */
    public DirtyBitmap(long pages) {
        if (pages < 0 || (pages + 63) / 64 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bitmap size out of range: " + pages + " pages");
        }
        this.pages = pages;
        this.words = new long[(int) ((pages + 63) >>> 6)];
    }

    /** Number of pages the bitmap covers. */
    public long pages() {
        return pages;
    }

    /** Number of 64-bit words. */
    public int wordCount() {
        return words.length;
    }

    /**
     * Marks a page dirty. Cheap when the bit is already set (a plain read), which is the common case
     * of a page written again before the next harvest.
     */
    public void set(long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << page;
        if (((long) WORDS.getOpaque(words, w) & bit) == 0) {
            WORDS.getAndBitwiseOr(words, w, bit);
        }
    }

    /** Marks pages {@code [from, to)} dirty. */
    public void setRange(long from, long to) {
        checkRange(from, to);
        for (long p = from; p < to; ) {
            int w = (int) (p >>> 6);
            int lo = (int) (p & 63);
            int hi = (int) Math.min(64, lo + (to - p));
            long mask = hi == 64 ? -1L << lo : ((1L << hi) - 1) & (-1L << lo);
            WORDS.getAndBitwiseOr(words, w, mask);
            p += hi - lo;
        }
    }

    /** Marks every page dirty (the start of a migration: everything must be sent once). */
    public void setAll() {
        setRange(0, pages);
    }

    public boolean test(long page) {
        return ((long) WORDS.getVolatile(words, (int) (page >>> 6)) & (1L << page)) != 0;
    }

    /** Clears one page's bit and says whether it was set. */
    public boolean testAndClear(long page) {
        long bit = 1L << page;
        return ((long) WORDS.getAndBitwiseAnd(words, (int) (page >>> 6), ~bit) & bit) != 0;
    }

    /** Word {@code w} as it is now. */
    public long word(int w) {
        return (long) WORDS.getVolatile(words, w);
    }

    /**
     * Atomically reads and clears word {@code w}. Skips the atomic write when the word is zero, which
     * makes a sparse harvest about ten times cheaper.
     */
    public long harvestWord(int w) {
        if ((long) WORDS.getVolatile(words, w) == 0) {
            return 0;
        }
        return (long) WORDS.getAndSet(words, w, 0L);
    }

    /** ORs {@code bits} into word {@code w}. */
    public void orWord(int w, long bits) {
        if (bits != 0) {
            WORDS.getAndBitwiseOr(words, w, bits);
        }
    }

    /**
     * Moves every set bit of this bitmap into {@code target} and clears it here: the harvest step of
     * a sync. Returns the number of pages moved.
     */
    public long harvestInto(DirtyBitmap target) {
        if (target.words.length != words.length) {
            throw new IllegalArgumentException("bitmaps differ in size");
        }
        long moved = 0;
        for (int w = 0; w < words.length; w++) {
            long bits = harvestWord(w);
            if (bits != 0) {
                target.orWord(w, bits);
                moved += Long.bitCount(bits);
            }
        }
        return moved;
    }

    /** Number of dirty pages. */
    public long count() {
        long n = 0;
        for (int w = 0; w < words.length; w++) {
            n += Long.bitCount(word(w));
        }
        return n;
    }

    /** Number of dirty pages in {@code [from, to)}. */
    public long count(long from, long to) {
        checkRange(from, to);
        long n = 0;
        for (long p = nextSetBit(from); p >= 0 && p < to; p = nextSetBit(p + 1)) {
            n++;
        }
        return n;
    }

    /** The first dirty page at or after {@code from}, or -1. */
    public long nextSetBit(long from) {
        if (from >= pages) {
            return -1;
        }
        int w = (int) (from >>> 6);
        long bits = word(w) & (-1L << from);
        while (true) {
            if (bits != 0) {
                long page = ((long) w << 6) + Long.numberOfTrailingZeros(bits);
                return page < pages ? page : -1;
            }
            if (++w >= words.length) {
                return -1;
            }
            bits = word(w);
        }
    }

    /** Clears every bit. Not atomic as a whole: call it when nothing sets bits concurrently. */
    public void clear() {
        for (int w = 0; w < words.length; w++) {
            WORDS.setVolatile(words, w, 0L);
        }
    }

    private void checkRange(long from, long to) {
        if (from < 0 || to > pages || from > to) {
            throw new IndexOutOfBoundsException("page range [" + from + ", " + to + ") outside " + pages);
        }
    }
}
