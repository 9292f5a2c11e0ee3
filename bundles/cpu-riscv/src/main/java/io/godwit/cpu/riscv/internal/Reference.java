package io.godwit.cpu.riscv.internal;

/**
 * The built-in programs' computations in Java: what {@code hash} must print and what {@code mixed}'s
 * memory must hold after k iterations. The oracles and tests compare the guest against these.
 */
final class Reference {

    static final long FNV_BASIS = 0xcbf29ce484222325L;
    static final long FNV_PRIME = 0x100000001b3L;
    static final long HASH_SEED = 0x9e3779b97f4a7c15L;
    static final long MIXED_SEED = 0x2545f4914f6cdd1dL;

    private Reference() {}

    static long xorshift(long x) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return x;
    }

    /** The value {@code hash} prints for WORDS and STEPS. */
    static long hash(int words, long steps) {
        long[] buf = new long[words];
        long x = HASH_SEED;
        for (int i = 0; i < words; i++) {
            x = xorshift(x);
            buf[i] = x;
        }
        long h = FNV_BASIS;
        int idx = 0;
        for (long s = 0; s < steps; s++) {
            long w = buf[idx];
            h = (h ^ w) * FNV_PRIME;
            buf[idx] = w + h;
            idx = (int) ((h >>> 17) & (words - 1));
        }
        return h;
    }

    /** {@code mixed}'s buffer after {@code iters} iterations. */
    static final class Mixed {
        final long[] buf;
        long x = MIXED_SEED;
        long i;

        Mixed(int words) {
            buf = new long[words];
        }

        /** Index the next iteration writes and the value it leaves there. */
        long nextIndex() {
            return xorshift(x) & (buf.length - 1);
        }

        long nextValue() {
            long nx = xorshift(x);
            return buf[(int) (nx & (buf.length - 1))] + (nx ^ i);
        }

        void step() {
            x = xorshift(x);
            int idx = (int) (x & (buf.length - 1));
            buf[idx] += x ^ i;
            i++;
        }

        long checksum() {
            long h = 0;
            for (long w : buf) {
                h = (h ^ w) * FNV_PRIME;
            }
            return h;
        }
    }
}
