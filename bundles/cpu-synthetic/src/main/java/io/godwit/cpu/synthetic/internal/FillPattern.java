package io.godwit.cpu.synthetic.internal;

/**
 * The fill workload's content: word w of page p is a hash of (p, w) with the low bit set, so no word
 * is zero and a page moved to the wrong place or mixed with another one does not match.
 */
final class FillPattern {

    private FillPattern() {}

    static long word(long page, int w) {
        long z = page * 512 + w + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) | 1;
    }
}
