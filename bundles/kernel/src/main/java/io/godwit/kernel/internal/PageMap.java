package io.godwit.kernel.internal;

import io.godwit.api.memory.RamBlock;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Which pages of this process's private anonymous memory were never touched, from
 * {@code /proc/self/pagemap} (one 64-bit entry per 4 KiB page: bit 63 present, bit 62 swapped). A
 * page with neither has no page table entry: in a private anonymous mapping it reads as zero, and
 * asking costs no fault, where reading it would fault in a page (seconds per GiB on a busy host).
 * Where the file cannot be read (another OS, a locked-down /proc) no page is marked.
 *
 * <p>Only for private anonymous memory: a shared or file mapping's absent page may hold data in the
 * page cache, and a userfaultfd-registered one (postcopy) is absent because it has not arrived.
 * Thread safe (positional reads on one channel).
 */
final class PageMap {

    private static final long PRESENT = 1L << 63;
    private static final long SWAPPED = 1L << 62;
    private static final FileChannel PAGEMAP = open();

    private PageMap() {}

    private static FileChannel open() {
        try {
            return FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /** See {@link RamBlock#untouchedPages}: {@code ram} must be private anonymous memory, page aligned. */
    static void untouched(MemorySegment ram, long firstIndex, long[] words) {
        Arrays.fill(words, 0L);
        long pages = Math.min((long) words.length * 64, ram.byteSize() / RamBlock.PAGE_SIZE - firstIndex);
        if (PAGEMAP == null || firstIndex < 0 || pages <= 0) {
            return;
        }
        ByteBuffer entries = ByteBuffer.allocate((int) pages * Long.BYTES).order(ByteOrder.nativeOrder());
        long position = (ram.address() / RamBlock.PAGE_SIZE + firstIndex) * Long.BYTES;
        try {
            while (entries.hasRemaining()) {
                if (PAGEMAP.read(entries, position + entries.position()) <= 0) {
                    return; // nothing marked: every page is read, as without the map
                }
            }
        } catch (IOException e) {
            return;
        }
        for (int i = 0; i < pages; i++) {
            if ((entries.getLong(i * Long.BYTES) & (PRESENT | SWAPPED)) == 0) {
                words[i >>> 6] |= 1L << i;
            }
        }
    }
}
