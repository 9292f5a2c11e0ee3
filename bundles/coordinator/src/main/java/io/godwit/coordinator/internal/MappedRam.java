package io.godwit.coordinator.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.SeekableChannel;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.proto.MappedBlock;
import io.godwit.wire.proto.MappedRamLayout;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The source's side of {@code mapped-ram} (QEMU 9.0): every RAM page has a fixed offset in the file,
 * written there with a positioned write however often it is sent, so a live guest can run as long as
 * it likes and the file never grows past its RAM plus metadata. Layout, from the migration's start:
 * the stream header, the hello, the RAM section's start and the {@code MAPPED_RAM} frame; then per
 * block a bitmap (a set bit: the page is in the file; a clear one: a zero page) and the page region,
 * each 4 KiB aligned; then the rest of the stream (the switchover, vCPU and device state, COMPLETE).
 *
 * <p>{@link #send} and the bitmap are safe to use from several threads at once (positioned writes, an
 * atomic bitmap): with multifd, {@link MappedRamChannels}' threads write their batches side by side;
 * without it the migration thread calls it. {@link #finish} writes the bitmaps once the last page went.
 */
final class MappedRam {

    static final int ALIGN = 4096;

    private final SeekableChannel file;
    private final List<RamBlock> blocks;
    private final MappedRamLayout layout;
    private final AtomicLongArray[] bitmaps;
    private final AtomicLong written = new AtomicLong();

    private MappedRam(SeekableChannel file, List<RamBlock> blocks, MappedRamLayout layout) {
        this.file = file;
        this.blocks = blocks;
        this.layout = layout;
        this.bitmaps = new AtomicLongArray[blocks.size()];
        for (int i = 0; i < bitmaps.length; i++) {
            bitmaps[i] = new AtomicLongArray(words(blocks.get(i).pages()));
        }
    }

    /**
     * mapped-ram needs a file, and neither postcopy (its pages go to a running destination) nor
     * copy-storage (the disks' parts would grow the stream with every pass) nor XBZRLE (a delta is no
     * page at a fixed offset) fits a file, as QEMU's migrate_caps_check says.
     */
    static void checkCapabilities(MigrationSettings settings) {
        refuse(settings, MigrationCapability.MAPPED_RAM, MigrationCapability.POSTCOPY_RAM,
                MigrationCapability.COPY_STORAGE, MigrationCapability.XBZRLE);
        // XBZRLE's deltas are applied to the page as placed, which postcopy places once only.
        refuse(settings, MigrationCapability.XBZRLE, MigrationCapability.POSTCOPY_RAM);
        // a compressed batch is no page at a fixed offset (QEMU refuses it too)
        if (settings.capability(MigrationCapability.MAPPED_RAM) && settings.capability(MigrationCapability.MULTIFD)
                && settings.parameter(io.godwit.api.migration.MigrationParameter.MULTIFD_COMPRESSION) != 0) {
            throw new IllegalArgumentException("capability mapped-ram cannot be combined with multifd-compression "
                    + io.godwit.api.migration.MigrationParameter.MULTIFD_COMPRESSIONS.get((int) settings.parameter(
                            io.godwit.api.migration.MigrationParameter.MULTIFD_COMPRESSION))
                    + " (migrate_set_parameter multifd-compression none)");
        }
    }

    private static void refuse(MigrationSettings settings, MigrationCapability on, MigrationCapability... not) {
        if (!settings.capability(on)) {
            return;
        }
        for (MigrationCapability c : not) {
            if (settings.capability(c)) {
                throw new IllegalArgumentException("capability " + on + " cannot be combined with " + c
                        + " (migrate_set_capability " + c + " off)");
            }
        }
    }

    /**
     * Plans the layout after what is staged in {@code writer} (the header, hello and RAM section
     * start), writes the {@code MAPPED_RAM} frame and moves the stream past the page regions.
     */
    static MappedRam start(MigrationChannel channel, FrameWriter writer, GuestMemory memory) throws IOException {
        if (!(channel instanceof SeekableChannel file)) {
            throw new MigrationFailure("capability mapped-ram needs a seekable transport (file:), not " + channel.name());
        }
        long at = align(writer.bytesWritten() + writer.staged() + 5 + FrameType.MAPPED_RAM.maxLength());
        MappedRamLayout.Builder layout = MappedRamLayout.newBuilder();
        for (RamBlock b : memory.blocks()) {
            long bitmapOffset = at;
            long pagesOffset = align(bitmapOffset + 8L * words(b.pages()));
            layout.addBlocks(MappedBlock.newBuilder().setPages(b.pages()).setBitmapOffset(bitmapOffset)
                    .setPagesOffset(pagesOffset));
            at = pagesOffset + b.pages() * RamBlock.PAGE_SIZE;
        }
        layout.setStreamOffset(at);
        MappedRam m = new MappedRam(file, memory.blocks(), layout.build());
        writer.writeMessage(FrameType.MAPPED_RAM, m.layout);
        writer.flush();
        file.position(at);
        return m;
    }

    /**
     * Writes a batch's normal pages at their offsets, one positioned write per run of consecutive
     * pages, and marks them present; its zero pages are marked absent (nothing is written: a stale copy
     * an earlier pass left at their offset is never loaded).
     */
    void send(int blockIndex, RamBlock block, RamBatch batch, long[] runOffsets, int[] runPages, int runs)
            throws IOException {
        long base = layout.getBlocks(blockIndex).getPagesOffset();
        MemorySegment raw = block.raw();
        for (int i = 0; i < runs; i++) {
            long bytes = (long) runPages[i] * RamBlock.PAGE_SIZE;
            file.writeAt(raw.asSlice(runOffsets[i], bytes).asByteBuffer(), base + runOffsets[i]);
            written.addAndGet(bytes);
        }
        AtomicLongArray bits = bitmaps[blockIndex];
        for (long index : batch.getNormalList()) {
            set(bits, index, true);
        }
        for (long index : batch.getZeroList()) {
            set(bits, index, false);
        }
    }

    /** Page bytes written into the file so far. */
    long writtenBytes() {
        return written.get();
    }

    /**
     * The last page went: every block's bitmap at its offset, then the layout again, sealed with each
     * bitmap's CRC32C, into the stream's tail, so that a bitmap damaged in the file is refused
     * instead of loading zero pages where the guest had data.
     */
    void finish(FrameWriter writer) throws IOException {
        MappedRamLayout.Builder sealed = layout.toBuilder().setSealed(true);
        for (int i = 0; i < bitmaps.length; i++) {
            AtomicLongArray bits = bitmaps[i];
            ByteBuffer buf = ByteBuffer.allocateDirect(8 * bits.length()).order(ByteOrder.LITTLE_ENDIAN);
            for (int w = 0; w < bits.length(); w++) {
                buf.putLong(bits.get(w));
            }
            buf.flip();
            sealed.setBlocks(i, sealed.getBlocks(i).toBuilder().setBitmapCrc32C(crc(buf)));
            file.writeAt(buf, layout.getBlocks(i).getBitmapOffset());
        }
        writer.writeMessage(FrameType.MAPPED_RAM, sealed.build());
    }

    static int crc(ByteBuffer bytes) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes.duplicate());
        return (int) crc.getValue();
    }

    private static void set(AtomicLongArray bits, long index, boolean present) {
        int w = (int) (index >>> 6);
        long mask = 1L << index;
        if (present) {
            bits.getAndAccumulate(w, mask, (a, b) -> a | b);
        } else {
            bits.getAndAccumulate(w, ~mask, (a, b) -> a & b);
        }
    }

    static int words(long pages) {
        return (int) ((pages + 63) >>> 6);
    }

    static long align(long offset) {
        return (offset + ALIGN - 1) & -ALIGN;
    }

    @Override
    public String toString() {
        return blocks.size() + " RAM block(s) mapped in " + file.name() + ", stream from " + layout.getStreamOffset();
    }
}
