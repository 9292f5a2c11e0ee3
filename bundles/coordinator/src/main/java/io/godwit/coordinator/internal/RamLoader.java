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
    /** verify-ram's digests of the pages as loaded, or null when off. */
    final PageDigests digests;
    /** Bytes of pages committed by remote batches. */
    long remoteBytes;
    /** Postcopy: pages are placed through it, once each, never straight into guest memory. */
    private io.godwit.api.memory.PostcopyRam postcopy;
    private final MemorySegment staging = java.lang.foreign.Arena.ofAuto().allocate(RamBlock.PAGE_SIZE);

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
        for (int i = 0; i < pages.size(); ) {
            // Consecutive pages are read in one go, straight into guest memory.
            long first = pages.get(i);
            int run = 1;
            while (i + run < pages.size() && pages.get(i + run) == first + run) {
                run++;
            }
            reader.readPages(raw.asSlice(first * RamBlock.PAGE_SIZE, (long) run * RamBlock.PAGE_SIZE));
            received.setRange(block.firstPage() + first, block.firstPage() + first + run);
            digestRun(block, raw, first, run);
            i += run;
        }
        normal += batch.getNormalCount();
        loadZeros(batch, block, raw);
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
     * Each page is read into a staging page, then placed: copied in and marked present at once, or
     * dropped when it is present already (the guest may have written it since it arrived).
     */
    private void placeAll(FrameReader reader, RamBatch batch, RamBlock block) throws IOException {
        if (batch.getRemote()) {
            throw new WireException("a RAM batch written remotely during postcopy");
        }
        for (long index : batch.getNormalList()) {
            reader.readPages(staging);
            postcopy.place(block.firstPage() + index, staging);
        }
        for (long index : batch.getZeroList()) {
            postcopy.placeZero(block.firstPage() + index);
        }
        normal += batch.getNormalCount();
        duplicate += batch.getZeroCount();
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
