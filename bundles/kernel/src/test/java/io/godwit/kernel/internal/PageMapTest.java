package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Never-touched pages of anonymous guest RAM, from the page tables, without faulting anything in. */
class PageMapTest {

    private static final long SIZE = 8L << 20;

    @Test
    void freshRamIsUntouchedAndAWrittenPageIsNot() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/pagemap")), "no /proc/self/pagemap");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = Mmap.anonymous(SIZE, false, arena);
            KernelRamBlock block = new KernelRamBlock("pc.ram", 0, seg, null);
            long[] words = new long[8];
            block.untouchedPages(1024, words);
            assertEquals(512, bits(words), "a fresh 2 MiB window is untouched");
            seg.set(ValueLayout.JAVA_BYTE, (1024 + 70) * 4096L + 5, (byte) 1);
            block.untouchedPages(1024, words);
            // written: not untouched (nor, with a huge page, its neighbours; 4 KiB pages keep theirs)
            assertEquals(0, words[1] & (1L << 6), "page 1024 + 70 was written");
            // the last window reaches past the block's end: those pages are not marked
            block.untouchedPages(2048 - 64, words);
            assertEquals(64, bits(words));
            // asking faulted nothing in: the other windows are still untouched
            block.untouchedPages(512, words);
            assertEquals(512, bits(words));
            block.untouchedPages(0, words);
            assertEquals(512, bits(words));
        }
    }

    @Test
    void preallocatedRamAndAFileHaveNoUntouchedPages(@TempDir Path dir) {
        try (Arena arena = Arena.ofShared()) {
            KernelRamBlock prealloc = new KernelRamBlock("pc.ram", 0, Mmap.anonymous(SIZE, true, arena), null);
            long[] words = new long[8];
            prealloc.untouchedPages(0, words);
            assertEquals(0, bits(words));
        }
        KernelGuestMemory file = KernelGuestMemory.map(SIZE, dir.resolve("ram"), false);
        try {
            long[] words = new long[8];
            file.blocks().get(0).untouchedPages(0, words);
            assertEquals(0, bits(words), "a file's absent page may hold data in the page cache");
        } finally {
            file.close();
        }
    }

    private static int bits(long[] words) {
        int n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }
}
