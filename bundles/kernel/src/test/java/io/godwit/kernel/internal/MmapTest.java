package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Guest RAM's mapping: huge-page aligned, and preallocated after the huge-page advice, not before. */
class MmapTest {

    private static final long SIZE = 64L << 20;

    @Test
    void guestRamStartsOnAHugePageBoundary() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ram = Mmap.anonymous(SIZE, false, arena);
            assertEquals(0, ram.address() % (2L << 20), "RAM at 0x" + Long.toHexString(ram.address()));
            ram.set(ValueLayout.JAVA_BYTE, SIZE - 1, (byte) 7);
            assertEquals(7, ram.get(ValueLayout.JAVA_BYTE, SIZE - 1));
        }
    }

    /**
     * {@code MAP_POPULATE} faulted the RAM in before {@code MADV_HUGEPAGE}, so with THP in madvise mode a
     * preallocated guest had (almost) no huge pages; advised first, it has them where the host has any.
     */
    @Test
    void preallocatedRamIsBackedByHugePages() throws IOException {
        String thp = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
        assumeTrue(thp.contains("[madvise]") || thp.contains("[always]"), "transparent huge pages are off: " + thp);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ram = Mmap.anonymous(SIZE, true, arena);
            long huge = anonHugeBytes(ram.address());
            assertTrue(huge >= SIZE / 4, "preallocated " + (SIZE >> 20) + " MiB has " + (huge >> 10)
                    + " KiB in huge pages");
        }
    }

    /** The {@code AnonHugePages} of the mapping that starts at {@code address}, from /proc/self/smaps. */
    private static long anonHugeBytes(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        String start = Long.toHexString(address) + "-";
        boolean inside = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inside = line.startsWith(start);
            } else if (inside && line.startsWith("AnonHugePages:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
            }
        }
        throw new AssertionError("no mapping starts at 0x" + Long.toHexString(address));
    }
}
