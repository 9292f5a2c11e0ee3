package io.godwit.coordinator.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import io.godwit.wire.Frame;
import io.godwit.wire.FrameReader;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Loads RAM batches into the destination's memory (QEMU's ram_load). Every index is checked against
 * its block before a byte is written. A zero page is only written where the page may be non-zero:
 * fresh anonymous RAM that never received a page is left untouched, so it is never faulted in. A
 * remote batch (REMOTE_MEMORY_WRITE) carries no bytes: the source wrote its pages into this memory
 * before sending the header, which only commits them; it is refused unless the memory was registered.
 *
 * <p>Runs on the incoming migration thread.
 */
final class RamLoader {

    /** Native, like guest RAM, so the comparison runs vectorized on both sides. */
    private static final MemorySegment ZERO = java.lang.foreign.Arena.global().allocate(RamBlock.PAGE_SIZE);

    private final List<RamBlock> blocks;
    private final DirtyBitmap received;
    private final boolean fresh;
    private final boolean registered;
    long normal;
    long duplicate;
    /** XBZRLE: pages loaded as deltas, and the buffers a delta is decoded with (made at the first). */
    long xbzrlePages;
    private byte[] deltaPage;
    private byte[] delta;
    /** verify-ram's digests of the pages as loaded, or null when off. */
    final PageDigests digests;
    /** Bytes of pages committed by remote batches. */
    long remoteBytes;
    /** Postcopy: pages are placed through it, once each, never straight into guest memory. */
    private io.godwit.api.memory.PostcopyRam postcopy;

    /**
     * @param fresh true when the memory is known to be all zero (anonymous, never loaded into)
     * @param registered true when the memory was registered for the source's remote writes
     */
    RamLoader(GuestMemory memory, boolean fresh, boolean registered) {
        this(memory, fresh, registered, false);
    }

    /** @param verify verify-ram: each page's digest is taken from guest memory once it is loaded */
    RamLoader(GuestMemory memory, boolean fresh, boolean registered, boolean verify) {
        this.digests = verify ? new PageDigests(memory.pages()) : null;
        this.blocks = memory.blocks();
        this.received = new DirtyBitmap(memory.pages());
        this.fresh = fresh;
        this.registered = registered;
    }

    /**
     * A loader for one multifd channel's thread: counters of its own, this loader's map of received
     * pages (shared, atomic), so a zero page after a normal one on another channel is still written.
     */
    RamLoader channelLoader() {
        return new RamLoader(this);
    }

    private RamLoader(RamLoader main) {
        this.digests = null;
        this.blocks = main.blocks;
        this.received = main.received;
        this.fresh = main.fresh;
        this.registered = false;
    }

    void load(FrameReader reader, Frame frame) throws IOException {
        RamBatch batch = reader.readBatchHeader(frame);
        int index = batch.getBlock(); // a uint32: 2^31 and above read as negative
        if (index < 0 || index >= blocks.size()) {
            throw new WireException("RAM batch names block " + Integer.toUnsignedString(index) + " of "
                    + blocks.size());
        }
        RamBlock block = blocks.get(index);
        checkIndices(batch.getNormalList(), block);
        checkIndices(batch.getZeroList(), block);
        if (batch.getXbzrleCount() > 0 && postcopy != null) {
            throw new WireException("a RAM batch of XBZRLE deltas during postcopy"); // placed once, never patched
        }
        if (postcopy != null) {
            placeAll(reader, batch, block);
            return;
        }
        MemorySegment raw = block.raw();
        List<Long> pages = batch.getNormalList();
        if (batch.getRemote()) {
            commitRemote(block, pages);
            pages = List.of();
        }
        // Consecutive pages are read in one go, straight into guest memory.
        forEachRun(pages, (first, run) -> {
            reader.readPages(raw.asSlice(first * RamBlock.PAGE_SIZE, (long) run * RamBlock.PAGE_SIZE));
            received.setRange(block.firstPage() + first, block.firstPage() + first + run);
            digestRun(block, raw, first, run);
        });
        normal += batch.getNormalCount();
        loadZeros(batch, block, raw);
        if (batch.getXbzrleCount() > 0) { // no page is both a delta and a zero page in one batch
            checkIndices(batch.getXbzrleList(), block);
            loadDeltas(reader, batch, block, raw);
        }
    }

    /**
     * XBZRLE: each delta is read whole, then applied to a copy of the page it names, which goes back
     * only once the delta decoded cleanly: a hostile delta never writes outside its page, nor leaves it
     * half-changed.
     */
    private void loadDeltas(FrameReader reader, RamBatch batch, RamBlock block, MemorySegment raw) throws IOException {
        if (deltaPage == null) {
            deltaPage = new byte[RamBlock.PAGE_SIZE];
            delta = new byte[RamBlock.PAGE_SIZE];
        }
        for (int i = 0; i < batch.getXbzrleCount(); i++) {
            long index = batch.getXbzrle(i);
            int length = batch.getXbzrleLength(i); // 1..4096, checked by the reader
            reader.readBytes(java.nio.ByteBuffer.wrap(delta, 0, length));
            long off = index * RamBlock.PAGE_SIZE;
            MemorySegment page = raw.asSlice(off, RamBlock.PAGE_SIZE);
            MemorySegment.copy(page, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, deltaPage, 0, RamBlock.PAGE_SIZE);
            XbzrleCodec.decode(delta, 0, length, deltaPage, 0, RamBlock.PAGE_SIZE);
            MemorySegment.copy(deltaPage, 0, page, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, RamBlock.PAGE_SIZE);
            received.set(block.firstPage() + index);
            digestRun(block, raw, index, 1);
        }
        xbzrlePages += batch.getXbzrleCount();
    }

    /** From POSTCOPY_RUN on, the guest runs here: pages arrive only through postcopy's placing. */
    void postcopy(io.godwit.api.memory.PostcopyRam pc) {
        this.postcopy = pc;
    }

    /** Pages still missing in postcopy, or 0. */
    long postcopyMissing() {
        return postcopy == null ? 0 : postcopy.missing();
    }

    /**
     * Each run of consecutive pages is placed as one: read straight into guest RAM where the pages are
     * missing (no access reaches them until they are marked present), dropped where one is present
     * already (the guest may have written it since it arrived).
     */
    private void placeAll(FrameReader reader, RamBatch batch, RamBlock block) throws IOException {
        if (batch.getRemote()) {
            throw new WireException("a RAM batch written remotely during postcopy");
        }
        forEachRun(batch.getNormalList(),
                (first, run) -> postcopy.placeRun(block.firstPage() + first, run, reader::readPages));
        for (long index : batch.getZeroList()) {
            postcopy.placeZero(block.firstPage() + index);
        }
        normal += batch.getNormalCount();
        duplicate += batch.getZeroCount();
    }

    /** A stretch of consecutive page indices of a batch. */
    @FunctionalInterface
    private interface Run {
        void accept(long first, int count) throws IOException;
    }

    /** Calls {@code run} for each stretch of consecutive indices in {@code pages}, in order. */
    private static void forEachRun(List<Long> pages, Run run) throws IOException {
        for (int i = 0; i < pages.size(); ) {
            long first = pages.get(i);
            int n = 1;
            while (i + n < pages.size() && pages.get(i + n) == first + n) {
                n++;
            }
            run.accept(first, n);
            i += n;
        }
    }

    private void commitRemote(RamBlock block, List<Long> pages) throws WireException {
        if (!registered) {
            throw new WireException("a RAM batch written remotely, but this destination registered no memory");
        }
        for (long index : pages) {
            received.set(block.firstPage() + index);
            digestRun(block, block.raw(), index, 1);
        }
        remoteBytes += (long) pages.size() * RamBlock.PAGE_SIZE;
    }

    /** verify-ram: the digests of pages just loaded, from where they landed in guest memory. */
    private void digestRun(RamBlock block, MemorySegment raw, long first, int run) {
        if (digests != null) {
            for (int i = 0; i < run; i++) {
                digests.page(block.firstPage() + first + i, raw, (first + i) * RamBlock.PAGE_SIZE);
            }
        }
    }

    private void loadZeros(RamBatch batch, RamBlock block, MemorySegment raw) {
        for (long index : batch.getZeroList()) {
            if (digests != null) {
                digests.zero(block.firstPage() + index); // a skipped zero page is zero: fresh RAM
            }
            if (!fresh || received.test(block.firstPage() + index)) {
                long off = index * RamBlock.PAGE_SIZE;
                if (MemorySegment.mismatch(raw, off, off + RamBlock.PAGE_SIZE, ZERO, 0, RamBlock.PAGE_SIZE) != -1) {
                    raw.asSlice(off, RamBlock.PAGE_SIZE).fill((byte) 0);
                }
            }
        }
        duplicate += batch.getZeroCount();
    }

    private static void checkIndices(List<Long> indices, RamBlock block) throws WireException {
        long pages = block.pages();
        for (long index : indices) {
            if (index < 0 || index >= pages) {
                throw new WireException("page index " + index + " is outside RAM block '" + block.name() + "' ("
                        + pages + " pages)");
            }
        }
    }
}
