package io.godwit.cpu.riscv.internal;

import io.godwit.api.memory.CpuMemory;
import java.util.Arrays;

/**
 * Decoded code pages of one hart, direct mapped by page number: each line holds the 1024 decoded
 * instructions of one 4 KiB page. A store into a cached page drops the line (self-modifying code),
 * {@code fence.i} drops all. Bounded at {@link #LINES} pages, so a huge VM costs no more than a small one.
 */
final class CodeCache {

    static final int LINES = 1024;

    private final long[] tags = new long[LINES];
    private final long[][] lines = new long[LINES][];

    CodeCache() {
        Arrays.fill(tags, -1);
    }

    long[] get(long page) {
        int i = (int) page & (LINES - 1);
        return tags[i] == page ? lines[i] : null;
    }

    /** Decodes a page (read through the CPU path) into its line. */
    long[] fill(long page, CpuMemory mem) {
        int i = (int) page & (LINES - 1);
        long[] line = lines[i] != null ? lines[i] : new long[1024];
        long base = page << 12;
        for (int k = 0; k < 1024; k++) {
            line[k] = Decoder.decode(mem.load32(base + 4L * k));
        }
        lines[i] = line;
        tags[i] = page;
        return line;
    }

    /** True when the page was cached and is now dropped. */
    boolean invalidate(long page) {
        int i = (int) page & (LINES - 1);
        if (tags[i] == page) {
            tags[i] = -1;
            return true;
        }
        return false;
    }

    void clear() {
        Arrays.fill(tags, -1);
    }
}
