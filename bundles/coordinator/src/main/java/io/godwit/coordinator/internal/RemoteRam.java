package io.godwit.coordinator.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.RemoteMemoryChannel;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The source's RAM path over a transport with remote memory writes (QEMU's RDMA migration): the
 * normal pages of a batch go as one-sided writes straight into the destination's registered RAM, and
 * the batch header follows in the stream only once those writes have completed, flagged
 * {@code remote} and without page bytes. The header is the commit: the destination counts a page as
 * received only when it reads it, so a source that dies mid-write leaves nothing the destination
 * would run. Zero pages stay indices in the stream, as on every transport.
 *
 * <p>Order between the two paths: a header is written only after its batch's writes and all earlier
 * ones completed, so a later zero index can never be overtaken by an older write. The other way, a
 * page sent as a zero index and then written remotely, the destination must have applied the zero
 * first: such a write waits for a fence, the destination's acknowledgement of every header so far. An
 * acknowledgement counts only frames the destination applied, not those it read ahead into its buffer
 * ({@code IncomingMigration.applied}); one that counted those could let a write land before the zero
 * fill that then wipes it.
 *
 * <p>Runs on the migration thread only.
 */
final class RemoteRam {

    /** Waits until the destination acknowledged applying {@code mark} bytes (stream bytes plus committed pages). */
    interface Fence {
        void await(long mark) throws IOException, InterruptedException;
    }

    /**
     * Headers waiting for their writes to complete: up to 8 batches of up to 16 MiB in flight. Past that
     * the migration thread waits until half have completed, so it wakes once per 4 batches rather than
     * once per batch: on a busy host every wake-up may wait for a CPU, and the HCA must not run dry.
     */
    private static final int MAX_PENDING = 8;
    private static final int LOW_WATER = MAX_PENDING / 2;
    private static final long POLL_NANOS = 100_000_000L;
    private static final ByteBuffer[] NO_PAGES = new ByteBuffer[0];

    private record Pending(RamBatch header, long lastWrite, long bytes, boolean hasZero) {}

    private final RemoteMemoryChannel channel;
    private final int[] regions;
    private final FrameWriter writer;
    private final Fence fence;
    private final DirtyBitmap zeroSent;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean anyZeroSent;
    /** Read by the return path's thread too (in-flight bytes). */
    private volatile long posted;
    private long committed;
    private long completed;
    private long zeroMark = -1;
    private long fences;

    private RemoteRam(RemoteMemoryChannel channel, int[] regions, FrameWriter writer, Fence fence, long pages) {
        this.channel = channel;
        this.regions = regions;
        this.writer = writer;
        this.fence = fence;
        this.zeroSent = new DirtyBitmap(pages);
    }

    /**
     * Attaches the destination's registered blocks, one descriptor per block in order, and checks
     * their sizes against this VM's.
     */
    static RemoteRam attach(RemoteMemoryChannel channel, List<byte[]> descriptors, GuestMemory memory,
            FrameWriter writer, Fence fence) throws IOException {
        List<RamBlock> blocks = memory.blocks();
        if (descriptors.size() != blocks.size()) {
            throw new MigrationFailure("the destination registered " + descriptors.size() + " memory regions for "
                    + blocks.size() + " RAM blocks");
        }
        int[] regions = new int[blocks.size()];
        for (int i = 0; i < regions.length; i++) {
            regions[i] = channel.attach(descriptors.get(i));
            if (channel.regionSize(regions[i]) < blocks.get(i).size()) {
                throw new MigrationFailure("the destination registered " + channel.regionSize(regions[i])
                        + " bytes for RAM block '" + blocks.get(i).name() + "' of " + blocks.get(i).size());
            }
        }
        return new RemoteRam(channel, regions, writer, fence, memory.pages());
    }

    /**
     * Refuses, before listening, a destination whose RAM a remote-memory transport cannot register:
     * the simulated HCA reaches only memory in a shared file (QEMU pins any RAM; here another process
     * must be able to map it).
     */
    static void checkRegistrable(io.godwit.api.vm.Vm vm, String scheme, io.godwit.api.transport.Transport transport) {
        if (!transport.capabilities().contains(io.godwit.api.transport.TransportCapability.REMOTE_MEMORY_WRITE)) {
            return;
        }
        for (RamBlock b : vm.memory().blocks()) {
            if (b.backingFile().isEmpty()) {
                throw new IllegalArgumentException("transport '" + scheme + "' writes into the destination's registered "
                        + "RAM, which must be a shared file: create VM '" + vm.name()
                        + "' with --mem-path FILE (for example /dev/shm/" + vm.name() + ".ram)");
            }
        }
    }

    /** Bytes of pages posted so far; the source's count of RAM sent that did not go through the stream. */
    long postedBytes() {
        return posted;
    }

    /** How many times a write had to wait for the destination to apply earlier zero pages. */
    long fences() {
        return fences;
    }

    /**
     * Posts the writes of one batch (its normal pages, as runs of consecutive pages) and queues its
     * header; writes the headers of every batch whose writes completed.
     */
    void send(int blockIndex, RamBlock block, RamBatch.Builder batch, long[] runOffsets, int[] runPages, int runs)
            throws IOException, InterruptedException {
        if (anyZeroSent && touchesZeroSent(block, batch)) {
            fence();
        }
        MemorySegment raw = block.raw();
        long last = 0;
        long bytes = 0;
        for (int i = 0; i < runs; i++) {
            long len = (long) runPages[i] * RamBlock.PAGE_SIZE;
            last = channel.post(regions[blockIndex], runOffsets[i], raw.asSlice(runOffsets[i], len));
            bytes += len;
        }
        posted += bytes;
        for (long index : batch.getZeroList()) {
            zeroSent.set(block.firstPage() + index);
            anyZeroSent = true;
        }
        pending.add(new Pending(batch.setRemote(true).build(), last, bytes, batch.getZeroCount() > 0));
        commit(pending.size() > MAX_PENDING ? pending.size() - LOW_WATER : 0);
    }

    /** Waits for every posted write and writes every pending header: the end of a pass. */
    void commitAll() throws IOException, InterruptedException {
        commit(pending.size());
    }

    /**
     * Writes pending headers in order while their writes are complete, waiting for the oldest
     * {@code mustCommit} of them.
     */
    private void commit(int mustCommit) throws IOException, InterruptedException {
        long target = 0;
        int i = 0;
        for (Pending p : pending) {
            if (i++ == mustCommit) {
                break;
            }
            target = Math.max(target, p.lastWrite());
        }
        while (completed < target) {
            completed = channel.poll(target, POLL_NANOS);
        }
        while (!pending.isEmpty()) {
            Pending p = pending.peek();
            if (completed < p.lastWrite()) {
                completed = channel.poll(p.lastWrite(), 0);
            }
            if (completed < p.lastWrite()) {
                return;
            }
            pending.poll();
            writer.writePages(p.header(), NO_PAGES, 0);
            committed += p.bytes();
            if (p.hasZero()) {
                zeroMark = writer.bytesWritten() + writer.staged() + committed;
            }
        }
    }

    private boolean touchesZeroSent(RamBlock block, RamBatch.Builder batch) {
        for (long index : batch.getNormalList()) {
            if (zeroSent.test(block.firstPage() + index)) {
                return true;
            }
        }
        return false;
    }

    /** Every zero page sent so far is applied by the destination before a write may reach it. */
    private void fence() throws IOException, InterruptedException {
        commitAll();
        writer.flush();
        if (zeroMark >= 0) {
            fences++;
            fence.await(zeroMark);
        }
        zeroSent.clear();
        anyZeroSent = false;
    }
}
