package io.godwit.cpu.synthetic.internal;

import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;

/** Page-level reads used by the oracles, on the raw path. */
final class Pages {

    static final int SIZE = RamBlock.PAGE_SIZE;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[SIZE]);

    private Pages() {}

    /** True when bytes {@code [from, SIZE)} of page {@code page} are zero. */
    static boolean zeroFrom(MemorySegment ram, long page, int from) {
        long off = page * SIZE;
        return MemorySegment.mismatch(ram, off + from, off + SIZE, ZERO, from, SIZE) == -1;
    }
}
