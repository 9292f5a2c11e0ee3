package io.godwit.virtio.blk.internal;

/**
 * The content of block {@code b} after its write number {@code gen}: its number, its generation,
 * then bytes derived from both. Generation 0 is a block never written (all zero).
 */
final class BlockPattern {

    private BlockPattern() {}

    static long word(long block, long gen, int i) {
        if (gen == 0) {
            return 0;
        }
        if (i == 0) {
            return block;
        }
        if (i == 1) {
            return gen;
        }
        long x = (block * 0x9E3779B97F4A7C15L) ^ (gen * 0xC2B2AE3D27D4EB4FL) ^ ((long) i << 32);
        x ^= x >>> 29;
        x *= 0xBF58476D1CE4E5B9L;
        return x ^ (x >>> 32);
    }
}
