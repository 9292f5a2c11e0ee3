package io.godwit.cpu.synthetic.internal;

/**
 * The fill workload's content: word w of page p is a hash of (p, w) with the low bit set, so no word
 * is zero and a page moved to the wrong place or mixed with another one does not match.
 *
 * <p>With {@code fill:random=PCT} only the first PCT % of each page's words are that hash; the rest
 * repeat one word of the page (its number, the low bit set): a page that compresses to about PCT % of
 * its size, so multifd's zlib and zstd have something to do (the hash alone does not compress at all),
 * and still one no other page matches.
 */
record FillPattern(int randomWords) {

    static final int WORDS = Pages.SIZE / 8;
    /** Today's fill: every word random. */
    static final FillPattern RANDOM = new FillPattern(WORDS);

    /** {@code percent} of each page's words random, at least one. */
    static FillPattern randomPercent(long percent) {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("fill option random is a percentage of each page, 1..100: " + percent);
        }
        return new FillPattern((int) Math.max(1, WORDS * percent / 100));
    }

    long word(long page, int w) {
        return w < randomWords ? hash(page, w) : (page << 8) ^ 0x5EED_0000_0000_0001L;
    }

    static long hash(long page, int w) {
        long z = page * 512 + w + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) | 1;
    }
}
