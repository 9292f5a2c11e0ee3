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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * The disk sent like RAM ({@code migrate --copy-storage}): a dirty-block bitmap, one bit per 4 KiB
 * block, set by the I/O thread after each write lands in the image (QEMU's block dirty bitmap); setup
 * marks every block, each pass sends dirty blocks up to its budget, and the stop-and-copy sends the
 * rest with the queue drained. The destination writes each block into its own image.
 *
 * <p>Parts: an int kind (0 setup: the block count, and a subsection {@code image} with the image's
 * real path and file key, so that a destination on the same file refuses; 1 blocks: a count, then
 * block number and bytes each). {@link #cleanup} drops the block log however the migration ended. Save methods run on the migration thread, load on the incoming migration thread.
 */
final class BlockCopy implements IterativeState {

    private static final int SETUP = 0;
    private static final int BLOCKS = 1;

    private final Path path;
    private final FileChannel image;
    private final long blocks;
    private final BlkBackend backend;
    private volatile DirtyBitmap dirty;

    BlockCopy(Path path, FileChannel image, long blocks, BlkBackend backend) {
        this.path = path;
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
        String[] id = identity();
        // Which file this is, so that a destination on the very same image refuses (copying a disk
        // onto itself while the source writes it corrupts it). A subsection: an older source's
        // stream without it still loads.
        out.subsection("image", s -> {
            s.writeString(id[0]);
            s.writeString(id[1]);
        });
    }

    /** The image's real path and its file key (device and inode on Linux). */
    private String[] identity() {
        try {
            return new String[] {path.toRealPath().toString(),
                    String.valueOf(Files.readAttributes(path, BasicFileAttributes.class).fileKey())};
        } catch (IOException e) {
            return new String[] {path.toString(), "?"}; // unknown: the destination cannot match it
        }
    }

    /** The migration ended, however: the I/O thread stops marking blocks (it may have failed mid-copy). */
    @Override
    public void cleanup() {
        backend.setBlockLog(null);
        dirty = null;
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
            Optional<String[]> theirId = in.subsection("image").map(i -> new String[] {i.readString(4096),
                    i.readString(256)});
            if (theirs != blocks) {
                throw new StateFormatException("the source's disk has " + theirs + " blocks, this image " + blocks);
            }
            String[] mine = identity();
            if (theirId.isPresent() && !"?".equals(mine[1]) && theirId.get()[0].equals(mine[0])
                    && theirId.get()[1].equals(mine[1])) {
                throw new StateFormatException("copy-storage onto the source's own image " + mine[0]
                        + ": give the destination an image of its own, or migrate without --copy-storage");
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
