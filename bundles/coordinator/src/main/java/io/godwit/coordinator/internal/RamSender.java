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
    /** Pages per question to the block about untouched pages: 2 MiB, one huge page. */
    private static final int UNTOUCHED_WINDOW = 512;

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

    /** mapped-ram: normal pages go to their fixed offsets in the file instead of into the stream; or null. */
    private MappedRam mapped;
    /** mapped-ram with multifd: threads that write the batches into the file side by side; or null. */
    private MappedRamChannels mappedChannels;
    /** XBZRLE, or null: from the second pass on, pages go whole or as deltas from its copies, staged here. */
    private Xbzrle xbzrle;
    private ByteBuffer wholeStage;
    private ByteBuffer deltaStage;

    /** With capability multifd: pages go in batches to the data channels, whose threads find the zero pages. */
    private MultifdSend multifd;
    private long multifdAccounted;

    private RamBatch.Builder batch = RamBatch.newBuilder();
    private int runCount;
    private int batchBlock = -1;
    private long lastNormal = -2;
    private long runStart;
    private int runPages;
    private int cursorWord;
    /**
     * The block's never-touched pages in one window ({@link RamBlock#untouchedPages}), zero without a
     * read. Asked for within one {@link #sendDirty} call only: the bitmap it works from was synced
     * before it began, so a page written after the question is dirty in the tracker and goes again in
     * the next pass, while an answer kept into the next pass could call such a page untouched.
     */
    private final long[] untouched = new long[UNTOUCHED_WINDOW / 64];
    private int untouchedBlock = -1;
    private long untouchedFirst;

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

    /** From now on pages go over multifd's data channels. */
    void multifd(MultifdSend m) {
        this.multifd = m;
    }

    /**
     * Sends dirty pages from where the last call stopped, clearing their bits, until the end of the
     * bitmap (returns true: the pass is over) or until the gate says stop (returns false). With
     * multifd either way ends with a sync of every channel: a page sent again after this call (the
     * next round, or the stop-and-copy from the start) cannot overtake its older copy.
     */
    boolean sendDirty(DirtyBitmap bitmap, BatchGate gate) throws IOException, InterruptedException {
        boolean over = sendRound(bitmap, gate);
        if (multifd != null) {
            multifd.sync(writer);
        }
        if (mappedChannels != null) {
            mappedChannels.sync();
        }
        return over;
    }

    private boolean sendRound(DirtyBitmap bitmap, BatchGate gate) throws IOException, InterruptedException {
        int words = bitmap.wordCount();
        untouchedBlock = -1;
        while (cursorWord < words) {
            long bits = bitmap.harvestWord(cursorWord);
            long base = (long) cursorWord << 6;
            cursorWord++;
            while (bits != 0) {
                long page = base + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (add(page, true) && !flushAndAsk(gate)) {
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
        if (xbzrle != null) {
            xbzrle.enable(); // QEMU's: after the first full round, every page has been sent once
        }
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
        if (add(page, false)) {
            flush();
        }
    }

    /**
     * Adds one page to the batch; true when the batch is full. {@code inPass}: within {@link #sendDirty},
     * where never-touched pages need no read; postcopy's pages are read, as its bitmap was not synced
     * after the last question.
     */
    private boolean add(long page, boolean inPass) throws IOException, InterruptedException {
        int b = blockOf(page);
        RamBlock block = blocks.get(b);
        if (multifd != null) {
            // a never-touched page is told to the channel as zero, so its thread does not read it in
            long index = page - block.firstPage();
            return multifd.add(b, index, inPass && untouched(b, block, index));
        }
        if (b != batchBlock) {
            flush();
            batchBlock = b;
            batch.setBlock(b);
        }
        long index = page - block.firstPage();
        long off = index * RamBlock.PAGE_SIZE;
        MemorySegment raw = block.raw();
        if (inPass && untouched(b, block, index) || isZero(raw, off)) {
            if (xbzrle != null) {
                xbzrle.zeroSent(page);
            }
            batch.addZero(index);
            if (digests != null) {
                digests.zero(page);
            }
            stats.duplicate++;
            return batch.getZeroCount() >= WireLimits.MAX_BATCH_ZERO;
        }
        if (xbzrle != null && xbzrle.enabled()) {
            return addThroughCache(page, index, raw, off);
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

    /**
     * XBZRLE: the page is copied once, and that copy goes whole or as a delta (or not at all when
     * unchanged), staged beside the batch; true when the batch is full.
     */
    private boolean addThroughCache(long page, long index, MemorySegment raw, long off) {
        int n = xbzrle.encode(page, raw, off);
        if (n == Xbzrle.UNCHANGED) {
            stats.xbzrleUnchanged++;
            return false;
        }
        if (digests != null) {
            digests.page(page, xbzrle.snapshotSegment(), 0); // exactly what goes
        }
        if (n == Xbzrle.WHOLE) {
            batch.addNormal(index);
            wholeStage.put(xbzrle.snapshot());
            stats.normal++;
        } else {
            batch.addXbzrle(index).addXbzrleLength(n);
            deltaStage.put(xbzrle.delta(), 0, n);
            stats.xbzrlePages++;
        }
        return batch.getNormalCount() + batch.getXbzrleCount() >= maxNormal;
    }

    /** Whether the page at {@code off} of {@code raw} is all zero, at memory speed. Any thread. */
    static boolean isZero(MemorySegment raw, long off) {
        return MemorySegment.mismatch(raw, off, off + RamBlock.PAGE_SIZE, ZERO, 0, RamBlock.PAGE_SIZE) == -1;
    }

    /** Whether page {@code index} of block {@code b} was never touched, asking the block once per window. */
    private boolean untouched(int b, RamBlock block, long index) {
        long first = index & -UNTOUCHED_WINDOW;
        if (b != untouchedBlock || first != untouchedFirst) {
            block.untouchedPages(first, untouched);
            untouchedBlock = b;
            untouchedFirst = first;
        }
        long i = index - first;
        return (untouched[(int) (i >>> 6)] & (1L << i)) != 0;
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

    /** With XBZRLE: from the end of the first pass, pages go through its cache. */
    void xbzrle(Xbzrle x) {
        this.xbzrle = x;
        this.wholeStage = ByteBuffer.allocateDirect(WireLimits.MAX_BATCH_NORMAL * RamBlock.PAGE_SIZE);
        this.deltaStage = ByteBuffer.allocateDirect(WireLimits.MAX_BATCH_NORMAL * RamBlock.PAGE_SIZE);
    }

    /** From now on pages go to their fixed offsets in a file (mapped-ram), not into the stream. */
    void mapped(MappedRam m) {
        this.mapped = m;
    }

    /** mapped-ram with multifd: from now on those threads write the batches. */
    void mappedChannels(MappedRamChannels c) {
        this.mappedChannels = c;
    }

    /** The remote memory path, or null. */
    RemoteRam remote() {
        return remote;
    }

    /** Bytes of RAM sent: the stream's, plus pages written remotely. */
    long sentBytes() {
        return writer.bytesWritten() + (remote != null ? remote.postedBytes() : 0)
                + (mapped != null ? mapped.writtenBytes() : 0)
                + (multifd != null ? multifd.bytesWritten() : 0);
    }

    private boolean flushAndAsk(BatchGate gate) throws IOException, InterruptedException {
        flush();
        return gate.keepGoing();
    }

    /** Writes the current batch, if any. */
    void flush() throws IOException, InterruptedException {
        if (multifd != null) {
            multifd.flush();
            long sent = sentBytes(); // the channels' bytes since the last batch count against the limit
            stats.transferred = sent;
            rateLimit.sent(sent - multifdAccounted);
            multifdAccounted = sent;
            return;
        }
        if (batchBlock < 0 || (batch.getNormalCount() == 0 && batch.getZeroCount() == 0 && batch.getXbzrleCount() == 0)) {
            return;
        }
        RamBlock block = blocks.get(batchBlock);
        closeRun();
        long before = sentBytes() + writer.staged();
        if (mappedChannels != null) {
            mappedChannels.submit(batchBlock, batch.build(), runOffsets, runPageCounts, runCount);
        } else if (mapped != null) {
            mapped.send(batchBlock, block, batch.build(), runOffsets, runPageCounts, runCount);
        } else if (remote != null) {
            remote.send(batchBlock, block, batch, runOffsets, runPageCounts, runCount);
        } else if (xbzrle != null && xbzrle.enabled()) {
            buffers[0] = wholeStage.flip();
            buffers[1] = deltaStage.flip();
            writer.writePages(batch.build(), buffers, 2);
            wholeStage.clear();
            deltaStage.clear();
            java.util.Arrays.fill(buffers, 0, 2, null);
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
