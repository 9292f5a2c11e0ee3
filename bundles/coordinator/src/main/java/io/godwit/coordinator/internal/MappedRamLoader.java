package io.godwit.coordinator.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.SeekableChannel;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.MappedBlock;
import io.godwit.wire.proto.MappedRamLayout;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The destination's side of {@code mapped-ram}: checks the layout the file claims against this VM and
 * the file's size, then reads each block's bitmap and its present pages straight into guest memory
 * with positioned reads. A page whose bit is clear is a zero page: written only where the memory may
 * be non-zero, as {@link RamLoader} does. Nothing the file says sizes an allocation or a read beyond
 * this VM's own blocks.
 *
 * <p>On the incoming migration thread.
 */
final class MappedRamLoader {

    /** Pages per positioned read at most (4 MiB). */
    private static final int MAX_RUN = 1024;
    /** Native, like guest RAM, so the comparison runs vectorized. */
    private static final MemorySegment ZERO = java.lang.foreign.Arena.global().allocate(RamBlock.PAGE_SIZE);

    private MappedRamLoader() {}

    /** Loads every block; returns each bitmap's CRC32C, for the sealed layout in the stream's tail. */
    static int[] load(SeekableChannel file, MappedRamLayout layout, GuestMemory memory, boolean fresh, RamLoader ram)
            throws IOException {
        List<RamBlock> blocks = memory.blocks();
        check(layout, blocks, file.size());
        int[] crcs = new int[blocks.size()];
        for (int i = 0; i < blocks.size(); i++) {
            crcs[i] = loadBlock(file, layout.getBlocks(i), blocks.get(i), fresh, ram);
        }
        return crcs;
    }

    /**
     * The tail's sealed layout: the same regions as the first, and the CRC32C of each bitmap as the
     * source wrote it, against the bitmap as read.
     */
    static void checkSealed(MappedRamLayout first, MappedRamLayout sealed, int[] crcs, List<RamBlock> blocks)
            throws WireException {
        MappedRamLayout.Builder unsealed = sealed.toBuilder().setSealed(false);
        for (int i = 0; i < unsealed.getBlocksCount(); i++) {
            unsealed.setBlocks(i, unsealed.getBlocks(i).toBuilder().clearBitmapCrc32C());
        }
        if (!unsealed.build().equals(first)) {
            throw new WireException("the sealed mapped-ram layout in the stream's tail differs from the first");
        }
        for (int i = 0; i < crcs.length; i++) {
            if (sealed.getBlocks(i).getBitmapCrc32C() != crcs[i]) {
                throw new WireException("the mapped-ram bitmap of RAM block '" + blocks.get(i).name()
                        + "' is damaged (its CRC32C differs from the source's)");
            }
        }
    }

    /** The layout fits this VM, its regions follow one another without overlap, and the file holds them all. */
    static void check(MappedRamLayout layout, List<RamBlock> blocks, long fileSize) throws WireException {
        if (layout.getBlocksCount() != blocks.size()) {
            throw new WireException("the mapped-ram layout has " + layout.getBlocksCount() + " RAM blocks, this VM "
                    + blocks.size());
        }
        long end = 0;
        for (int i = 0; i < blocks.size(); i++) {
            MappedBlock m = layout.getBlocks(i);
            RamBlock b = blocks.get(i);
            if (m.getPages() != b.pages()) {
                throw new WireException("the mapped-ram layout gives RAM block '" + b.name() + "' "
                        + Long.toUnsignedString(m.getPages()) + " pages, this VM " + b.pages());
            }
            long bitmapEnd = region(m.getBitmapOffset(), 8L * MappedRam.words(b.pages()), end, b);
            end = region(m.getPagesOffset(), b.pages() * RamBlock.PAGE_SIZE, bitmapEnd, b);
        }
        long stream = layout.getStreamOffset();
        if (stream < end) {
            throw new WireException("the mapped-ram layout puts the stream at " + Long.toUnsignedString(stream)
                    + ", inside the RAM regions (which end at " + end + ")");
        }
        if (fileSize < stream) {
            throw new WireException("the file is truncated: it ends at byte " + fileSize + ", before its RAM regions end at "
                    + stream);
        }
    }

    /** A region of {@code length} bytes at {@code offset}, not before {@code after}; returns its end. */
    private static long region(long offset, long length, long after, RamBlock b) throws WireException {
        if (offset < after || offset > Long.MAX_VALUE - length) {
            throw new WireException("the mapped-ram layout of RAM block '" + b.name() + "' overlaps or lies outside"
                    + " the file (offset " + Long.toUnsignedString(offset) + ")");
        }
        return offset + length;
    }

    private static int loadBlock(SeekableChannel file, MappedBlock m, RamBlock block, boolean fresh, RamLoader ram)
            throws IOException {
        ByteBuffer bitmap = bitmap(file, m, block);
        int crc = MappedRam.crc(bitmap);
        long[] bits = bits(bitmap, block);
        MemorySegment raw = block.raw();
        long pages = block.pages();
        for (long p = 0; p < pages; ) {
            boolean present = (bits[(int) (p >>> 6)] & (1L << p)) != 0;
            long run = 1;
            while (p + run < pages && run < MAX_RUN && ((bits[(int) ((p + run) >>> 6)] & (1L << (p + run))) != 0) == present) {
                run++;
            }
            if (present) {
                readRun(file, m.getPagesOffset(), raw, p, run);
                ram.normal += run;
            } else {
                zeroRun(raw, p, run, fresh);
                ram.duplicate += run;
            }
            digest(ram.digests, block, raw, p, run, present);
            p += run;
        }
        return crc;
    }

    private static ByteBuffer bitmap(SeekableChannel file, MappedBlock m, RamBlock block) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8 * MappedRam.words(block.pages()));
        read(file, buf, m.getBitmapOffset());
        return buf.flip();
    }

    private static long[] bits(ByteBuffer bitmap, RamBlock block) throws WireException {
        int words = MappedRam.words(block.pages());
        long[] bits = new long[words];
        bitmap.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(bits);
        int tail = (int) (block.pages() & 63);
        if (tail != 0 && (bits[words - 1] & (-1L << tail)) != 0) {
            throw new WireException("the mapped-ram bitmap of RAM block '" + block.name() + "' marks pages beyond its "
                    + block.pages());
        }
        return bits;
    }

    private static void readRun(SeekableChannel file, long pagesOffset, MemorySegment raw, long first, long run)
            throws IOException {
        long off = first * RamBlock.PAGE_SIZE;
        read(file, raw.asSlice(off, run * RamBlock.PAGE_SIZE).asByteBuffer(), pagesOffset + off);
    }

    private static void read(SeekableChannel file, ByteBuffer dst, long offset) throws IOException {
        try {
            file.readAt(dst, offset);
        } catch (EOFException e) {
            throw new WireException("the file is truncated: " + e.getMessage());
        }
    }

    private static void zeroRun(MemorySegment raw, long first, long run, boolean fresh) {
        if (fresh) {
            return; // anonymous RAM nobody wrote: zero already, and left untouched (never faulted in)
        }
        for (long p = first; p < first + run; p++) {
            long off = p * RamBlock.PAGE_SIZE;
            if (MemorySegment.mismatch(raw, off, off + RamBlock.PAGE_SIZE, ZERO, 0, RamBlock.PAGE_SIZE) != -1) {
                raw.asSlice(off, RamBlock.PAGE_SIZE).fill((byte) 0);
            }
        }
    }

    private static void digest(PageDigests digests, RamBlock block, MemorySegment raw, long first, long run,
            boolean present) {
        if (digests == null) {
            return;
        }
        for (long p = first; p < first + run; p++) {
            if (present) {
                digests.page(block.firstPage() + p, raw, p * RamBlock.PAGE_SIZE);
            } else {
                digests.zero(block.firstPage() + p);
            }
        }
    }
}
