package io.godwit.coordinator.internal;

import com.google.protobuf.ByteString;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * One multifd data channel of the source and its sender thread (QEMU's multifd_send_thread): takes
 * batches of page indices from the shared queue whenever it is free, sorts them into zero and normal pages, and writes them,
 * raw from guest memory or compressed from a copy (QEMU copies before compressing too: the guest may
 * write a page while the codec reads it). A SYNC is written after every batch this channel took
 * before it; then the thread waits until every channel wrote its SYNC, so it takes neither a batch of
 * the next round nor a second SYNC.
 */
final class MultifdSendChannel implements Runnable {

    /** Page indices of one block, ascending, to send; {@code ~index} for a page known to be zero. */
    record Batch(int block, long[] pages, int count) {}

    /** The end of round {@code n}. */
    record Sync(long n) {}

    final int id;
    /** Released once per SYNC written. */
    final Semaphore synced = new Semaphore(0);
    /** Released by the migration thread once every channel wrote its SYNC: the next round may begin. */
    final Semaphore resume = new Semaphore(0);
    final FrameWriter writer;
    volatile long normal;
    volatile long duplicate;
    /** Bytes of normal pages sent, as in guest memory, and what they took on the channel. */
    volatile long pageBytes;
    volatile long wireBytes;
    private final MultifdSend owner;
    private final MigrationChannel channel;
    private final List<RamBlock> blocks;
    private final MultifdCodec codec;
    private final ByteBuffer[] runs = new ByteBuffer[WireLimits.MAX_BATCH_NORMAL];
    private final ByteBuffer staging;
    private final ByteBuffer compressed;
    private Thread thread;

    MultifdSendChannel(MultifdSend owner, int id, MigrationChannel channel, List<RamBlock> blocks, MultifdCodec codec) {
        this.owner = owner;
        this.id = id;
        this.channel = channel;
        this.blocks = blocks;
        this.codec = codec;
        this.writer = new FrameWriter(channel);
        int bytes = WireLimits.MAX_BATCH_NORMAL * WireLimits.PAGE_SIZE;
        this.staging = codec == null ? null : ByteBuffer.allocateDirect(bytes);
        this.compressed = codec == null ? null : ByteBuffer.allocateDirect(bytes);
    }

    /** The channel's introduction (QEMU's MultiFDInit_t): the stream header, then its id and the VM's UUID. */
    void init(byte[] uuid) throws IOException {
        writer.writeStreamHeader();
        writer.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.MULTIFD_INIT).setValue(id)
                .setUuid(ByteString.copyFrom(uuid)).build());
        writer.flush();
    }

    void start(String name) {
        thread = Thread.ofPlatform().name(name).start(this);
    }

    @Override
    public void run() {
        try {
            while (true) {
                Object work = owner.work.take();
                if (work instanceof Batch b) {
                    send(b);
                } else if (work instanceof Sync s) {
                    writer.writeMessage(FrameType.COMMAND,
                            Command.newBuilder().setKind(Command.Kind.MULTIFD_SYNC).setValue(s.n()).build());
                    writer.flush();
                    synced.release();
                    resume.acquire();
                }
            }
        } catch (InterruptedException e) {
            // the migration ended
        } catch (IOException | RuntimeException e) {
            owner.failed(id, e);
        }
    }

    private void send(Batch b) throws IOException {
        RamBlock block = blocks.get(b.block());
        MemorySegment raw = block.raw();
        RamBatch.Builder header = RamBatch.newBuilder().setBlock(b.block());
        int runCount = 0;
        long lastNormal = -2;
        for (int i = 0; i < b.count(); i++) {
            long index = b.pages()[i];
            if (index < 0) { // never touched: zero without a read (MultifdSend.add)
                header.addZero(~index);
                continue;
            }
            long off = index * RamBlock.PAGE_SIZE;
            if (RamSender.isZero(raw, off)) {
                header.addZero(index);
                continue;
            }
            header.addNormal(index);
            if (index == lastNormal + 1) {
                ByteBuffer last = runs[runCount - 1];
                runs[runCount - 1] = raw.asSlice(off - last.capacity(), last.capacity() + RamBlock.PAGE_SIZE).asByteBuffer();
            } else {
                runs[runCount++] = raw.asSlice(off, RamBlock.PAGE_SIZE).asByteBuffer();
            }
            lastNormal = index;
        }
        int normalPages = header.getNormalCount();
        long bytes = (long) normalPages * RamBlock.PAGE_SIZE;
        long before = writer.bytesWritten();
        if (codec == null || normalPages == 0) {
            writer.writePages(header.build(), runs, runCount);
        } else {
            sendCompressed(header, runCount);
        }
        java.util.Arrays.fill(runs, 0, runCount, null); // do not keep guest memory slices alive
        normal += normalPages;
        duplicate += header.getZeroCount();
        pageBytes += bytes;
        wireBytes += normalPages == 0 ? 0 : Math.min(bytes, writer.bytesWritten() - before);
    }

    /** Copies the normal pages, compresses the copy, and sends it raw if that is not smaller. */
    private void sendCompressed(RamBatch.Builder header, int runCount) throws IOException {
        staging.clear();
        for (int i = 0; i < runCount; i++) {
            staging.put(runs[i]);
        }
        staging.flip();
        int len = codec.compress(staging.duplicate(), compressed.clear()); // zlib moves its input's position
        if (len < 0) {
            runs[0] = staging;
            java.util.Arrays.fill(runs, 1, runCount, null);
            writer.writePages(header.build(), runs, 1);
            return;
        }
        writer.writeCompressedPages(header.setCodec(codec.id()).build(), compressed.slice(0, len));
    }

    void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing is all that is left to do
        }
    }

    /** Ends the thread and waits for it a little; the codec's native state goes once it is out. */
    void stop() {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (codec != null && (t == null || !t.isAlive())) {
            codec.close();
        }
    }
}
