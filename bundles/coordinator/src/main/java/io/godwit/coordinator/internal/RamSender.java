package io.godwit.coordinator.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Sends dirty pages in batches (QEMU's ram_save_iterate): zero pages as indices only, found at
 * memory speed; normal pages as slices of guest memory handed to a gathering write, with runs of
 * consecutive pages in one buffer. Bits are cleared as pages are picked, so a page dirtied again
 * after it was read is sent again in the next pass. Over a transport with remote memory writes the
 * normal pages go as one-sided writes instead ({@link RemoteRam}); everything else is the same.
 *
 * <p>Runs on the migration thread only.
 */
final class RamSender {

    /** Decides after each batch whether to go on; may throw to cancel. */
    interface BatchGate {
        boolean keepGoing() throws InterruptedException;
    }

    /** Native, like guest RAM, so the comparison runs vectorized on both sides. */
    private static final MemorySegment ZERO = java.lang.foreign.Arena.global().allocate(RamBlock.PAGE_SIZE);

    private final List<RamBlock> blocks;
    private final FrameWriter writer;
    private final MigrationStats stats;
    private final RateLimit rateLimit;
    private final RemoteRam remote;
    /** verify-ram: each page's digest as it is sent, or null when off. */
    private final PageDigests digests;
    private final ByteBuffer[] buffers = new ByteBuffer[WireLimits.MAX_BATCH_NORMAL];
    private final long[] runOffsets = new long[WireLimits.MAX_BATCH_REMOTE];
    private final int[] runPageCounts = new int[WireLimits.MAX_BATCH_REMOTE];
    /** Normal pages per batch: 1 MiB of page bytes in the stream, or 16 MiB written remotely. */
    private final int maxNormal;

    private RamBatch.Builder batch = RamBatch.newBuilder();
    private int runCount;
    private int batchBlock = -1;
    private long lastNormal = -2;
    private long runStart;
    private int runPages;
    private int cursorWord;

    /** @param remote the remote memory path, or null to send page bytes in the stream */
    RamSender(GuestMemory memory, FrameWriter writer, MigrationStats stats, RateLimit rateLimit, RemoteRam remote) {
        this(memory, writer, stats, rateLimit, remote, null);
    }

    /** @param digests verify-ram's page digests to update as pages go, or null */
    RamSender(GuestMemory memory, FrameWriter writer, MigrationStats stats, RateLimit rateLimit, RemoteRam remote,
            PageDigests digests) {
        this.remote = remote;
        this.digests = digests;
        this.maxNormal = remote != null ? WireLimits.MAX_BATCH_REMOTE : WireLimits.MAX_BATCH_NORMAL;
        this.blocks = memory.blocks();
        this.writer = writer;
        this.stats = stats;
        this.rateLimit = rateLimit;
    }

    /**
     * Sends dirty pages from where the last call stopped, clearing their bits, until the end of the
     * bitmap (returns true: the pass is over) or until the gate says stop (returns false).
     */
    boolean sendDirty(DirtyBitmap bitmap, BatchGate gate) throws IOException, InterruptedException {
        int words = bitmap.wordCount();
        while (cursorWord < words) {
            long bits = bitmap.harvestWord(cursorWord);
            long base = (long) cursorWord << 6;
            cursorWord++;
            while (bits != 0) {
                long page = base + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (add(page) && !flushAndAsk(gate)) {
                    bitmap.orWord(cursorWord - 1, bits); // put back what this word still owes
                    cursorWord--;
                    commitRemote();
                    return false;
                }
            }
        }
        flush();
        commitRemote();
        cursorWord = 0;
        return true;
    }

    /**
     * Sends every dirty page from the start of the bitmap: the stop-and-copy pass, which must not
     * begin where an interrupted precopy pass left off.
     */
    void sendAll(DirtyBitmap bitmap, BatchGate gate) throws IOException, InterruptedException {
        cursorWord = 0;
        while (!sendDirty(bitmap, gate)) {
            // the gate never says stop here except by throwing
        }
    }

    /**
     * Adds one page outside any pass (postcopy's requested and background pages); the batch goes out
     * when full or at {@link #flush}. The caller cleared the page's bit.
     */
    void addPage(long page) throws IOException, InterruptedException {
        if (add(page)) {
            flush();
        }
    }

    /** Adds one page to the batch; true when the batch is full. */
    private boolean add(long page) throws IOException, InterruptedException {
        int b = blockOf(page);
        RamBlock block = blocks.get(b);
        if (b != batchBlock) {
            flush();
            batchBlock = b;
            batch.setBlock(b);
        }
        long index = page - block.firstPage();
        long off = index * RamBlock.PAGE_SIZE;
        MemorySegment raw = block.raw();
        if (MemorySegment.mismatch(raw, off, off + RamBlock.PAGE_SIZE, ZERO, 0, RamBlock.PAGE_SIZE) == -1) {
            batch.addZero(index);
            if (digests != null) {
                digests.zero(page);
            }
            stats.duplicate++;
            return batch.getZeroCount() >= WireLimits.MAX_BATCH_ZERO;
        }
        batch.addNormal(index);
        if (digests != null) {
            // The bytes the write takes later may be newer: then the guest dirtied the page, which goes
            // again, with its digest, by the final pass at the latest.
            digests.page(page, raw, off);
        }
        stats.normal++;
        if (index == lastNormal + 1 && runPages > 0) {
            runPages++;
        } else {
            closeRun();
            runStart = off;
            runPages = 1;
        }
        lastNormal = index;
        return batch.getNormalCount() >= maxNormal;
    }

    private void closeRun() {
        if (runPages > 0) {
            runOffsets[runCount] = runStart;
            runPageCounts[runCount++] = runPages;
            runPages = 0;
        }
    }

    /** A pass ends with every remote write completed and committed in the stream. */
    private void commitRemote() throws IOException, InterruptedException {
        if (remote != null) {
            remote.commitAll();
        }
    }

    /** The remote memory path, or null. */
    RemoteRam remote() {
        return remote;
    }

    /** Bytes of RAM sent: the stream's, plus pages written remotely. */
    long sentBytes() {
        return writer.bytesWritten() + (remote != null ? remote.postedBytes() : 0);
    }

    private boolean flushAndAsk(BatchGate gate) throws IOException, InterruptedException {
        flush();
        return gate.keepGoing();
    }

    /** Writes the current batch, if any. */
    void flush() throws IOException, InterruptedException {
        if (batchBlock < 0 || (batch.getNormalCount() == 0 && batch.getZeroCount() == 0)) {
            return;
        }
        RamBlock block = blocks.get(batchBlock);
        closeRun();
        long before = sentBytes() + writer.staged();
        if (remote != null) {
            remote.send(batchBlock, block, batch, runOffsets, runPageCounts, runCount);
        } else {
            MemorySegment raw = block.raw();
            for (int i = 0; i < runCount; i++) {
                buffers[i] = raw.asSlice(runOffsets[i], (long) runPageCounts[i] * RamBlock.PAGE_SIZE).asByteBuffer();
            }
            writer.writePages(batch.build(), buffers, runCount);
            java.util.Arrays.fill(buffers, 0, runCount, null);
        }
        runCount = 0;
        batch = RamBatch.newBuilder().setBlock(batchBlock);
        lastNormal = -2;
        long sent = sentBytes() + writer.staged() - before;
        stats.sent(sentBytes());
        rateLimit.sent(sent);
    }

    private int blockOf(long page) {
        for (int i = 0; i < blocks.size(); i++) {
            RamBlock b = blocks.get(i);
            if (page >= b.firstPage() && page < b.firstPage() + b.pages()) {
                return i;
            }
        }
        throw new IllegalStateException("dirty page " + page + " is in no RAM block");
    }
}
