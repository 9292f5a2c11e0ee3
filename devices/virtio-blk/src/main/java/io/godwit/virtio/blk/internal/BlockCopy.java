package io.godwit.virtio.blk.internal;

import io.godwit.api.device.IterativeState;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The disk sent like RAM ({@code migrate --copy-storage}): a dirty-block bitmap, one bit per 4 KiB
 * block, set by the I/O thread after each write lands in the image (QEMU's block dirty bitmap); setup
 * marks every block, each pass sends dirty blocks up to its budget, and the stop-and-copy sends the
 * rest with the queue drained. The destination writes each block into its own image.
 *
 * <p>Parts: an int kind (0 setup: the block count; 1 blocks: a count, then block number and bytes
 * each). Save methods run on the migration thread, load on the incoming migration thread.
 */
final class BlockCopy implements IterativeState {

    private static final int SETUP = 0;
    private static final int BLOCKS = 1;

    private final FileChannel image;
    private final long blocks;
    private final BlkBackend backend;
    private DirtyBitmap dirty;

    BlockCopy(FileChannel image, long blocks, BlkBackend backend) {
        this.image = image;
        this.blocks = blocks;
        this.backend = backend;
    }

    @Override
    public void saveSetup(StateOutput out) {
        dirty = new DirtyBitmap(blocks);
        backend.setBlockLog(dirty); // from here every write marks its block
        dirty.setAll();
        out.writeInt(SETUP);
        out.writeLong(blocks);
    }

    @Override
    public long pending() {
        DirtyBitmap d = dirty;
        return d == null ? 0 : d.count() * BlkLayout.BLOCK;
    }

    @Override
    public boolean saveIterate(StateOutput out, long maxBytes) {
        sendDirty(out, Math.max(1, maxBytes / BlkLayout.BLOCK));
        return dirty.count() == 0;
    }

    @Override
    public void saveComplete(StateOutput out) {
        sendDirty(out, Long.MAX_VALUE);
        backend.setBlockLog(null);
        dirty = null;
    }

    private void sendDirty(StateOutput out, long max) {
        ByteBuffer buf = ByteBuffer.allocate(BlkLayout.BLOCK);
        long n = Math.min(max, dirty.count());
        out.writeInt(BLOCKS);
        out.writeLong(n);
        long sent = 0;
        for (long b = dirty.nextSetBit(0); b >= 0 && sent < n; b = dirty.nextSetBit(b + 1)) {
            dirty.testAndClear(b); // before the read: a write after it marks the block again
            buf.clear();
            try {
                image.read(buf, b * BlkLayout.BLOCK);
            } catch (IOException e) {
                throw new UncheckedIOException("reading the image for copy-storage", e);
            }
            out.writeLong(b);
            out.writeBytes(buf.array());
            sent++;
        }
        if (sent != n) { // only this thread clears bits, so the n counted are all still ahead
            throw new IllegalStateException("the dirty-block bitmap lost " + (n - sent) + " blocks");
        }
    }

    @Override
    public void load(StateInput in) {
        int kind = in.readInt();
        if (kind == SETUP) {
            long theirs = in.readLong();
            if (theirs != blocks) {
                throw new StateFormatException("the source's disk has " + theirs + " blocks, this image " + blocks);
            }
            return;
        }
        if (kind != BLOCKS) {
            throw new StateFormatException("unknown disk part " + kind);
        }
        long n = in.readLong();
        if (n < 0 || n > blocks) {
            throw new StateFormatException("a part of " + n + " blocks");
        }
        try {
            for (long i = 0; i < n; i++) {
                long b = in.readLong();
                byte[] data = in.readBytes(BlkLayout.BLOCK);
                if (b < 0 || b >= blocks || data.length != BlkLayout.BLOCK) {
                    throw new StateFormatException("block " + b + " of " + data.length + " bytes is out of range");
                }
                image.write(ByteBuffer.wrap(data), b * BlkLayout.BLOCK);
            }
            image.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the image", e);
        }
    }
}
