package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import io.godwit.wire.Frame;
import io.godwit.wire.FrameReader;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.WireException;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One multifd data channel of the destination and its receiver thread (QEMU's multifd_recv_thread):
 * raw batches go through the channel's {@link RamLoader}, straight into guest memory with every index
 * checked; a compressed batch is decoded first, must come to exactly its pages' size, and then loads
 * as the raw batch it stands for. A SYNC waits at the barrier for every other channel and the main
 * stream's FLUSH.
 */
final class MultifdRecvChannel implements Runnable {

    /** Told after each frame applied, to acknowledge it; on the channel's thread. */
    interface Progress {
        void applied() throws IOException;
    }

    final int id;
    final RamLoader loader;
    /** Bytes of this channel applied: every frame before the last one loaded. */
    volatile long applied;
    volatile long pageBytes;
    volatile long wireBytes;
    private final MultifdRecv owner;
    private final MigrationChannel channel;
    private final FrameReader reader;
    private final MultifdCodec codec;
    private final Progress progress;
    private long syncs;
    private Thread thread;
    /** A compressed batch's bytes, its decoded pages, and the raw batch they make, read back by {@link #decoded}. */
    private ByteBuffer compressed;
    private ByteBuffer pages;
    private BufferChannel frame;
    private FrameWriter frameWriter;
    private FrameReader decoded;

    MultifdRecvChannel(MultifdRecv owner, int id, MigrationChannel channel, FrameReader reader, RamLoader loader,
            MultifdCodec codec, Progress progress) {
        this.owner = owner;
        this.id = id;
        this.channel = channel;
        this.reader = reader;
        this.loader = loader;
        this.codec = codec;
        this.progress = progress;
    }

    /** Bytes of this channel read off its link so far, a batch being read included: what it moved. */
    long moved() {
        return reader.bytesRead();
    }

    void start(String name) {
        thread = Thread.ofPlatform().name(name).start(this);
    }

    @Override
    public void run() {
        try {
            while (true) {
                Frame f = reader.next();
                switch (f.type()) {
                    case RAM_PAGES -> {
                        long before = loader.normal;
                        loader.load(reader, f);
                        long bytes = (loader.normal - before) * WireLimits.PAGE_SIZE;
                        pageBytes += bytes;
                        wireBytes += bytes;
                    }
                    case MULTIFD_PAGES -> loadCompressed(f);
                    case COMMAND -> sync(reader.readMessage(f, Command.parser()));
                    default -> throw new WireException("unexpected " + f.type() + " frame on a multifd channel");
                }
                applied = reader.bytesConsumed();
                progress.applied();
            }
        } catch (IOException | RuntimeException e) {
            owner.failed(id, e);
        } finally {
            if (codec != null) {
                codec.close();
            }
        }
    }

    private void sync(Command c) throws IOException {
        if (c.getKind() != Command.Kind.MULTIFD_SYNC || c.getValue() != syncs + 1) {
            throw new WireException("expected multifd SYNC " + (syncs + 1) + ", got " + c.getKind() + " "
                    + Long.toUnsignedString(c.getValue()));
        }
        syncs++;
        applied = reader.bytesConsumed();
        owner.meet();
    }

    private void loadCompressed(Frame f) throws IOException {
        RamBatch batch = reader.readBatchHeader(f, true);
        if (codec == null || batch.getCodec() != codec.id()) {
            throw new WireException("a RAM batch compressed with codec " + batch.getCodec() + ", but the hello said "
                    + (codec == null ? "none" : codec.name()));
        }
        int length = reader.payloadLeft();
        if (compressed == null) {
            int bytes = WireLimits.MAX_BATCH_NORMAL * WireLimits.PAGE_SIZE;
            compressed = ByteBuffer.allocateDirect(bytes);
            pages = ByteBuffer.allocateDirect(bytes);
            frame = new BufferChannel(WireLimits.MAX_RAM_FRAME);
            frameWriter = new FrameWriter(frame);
            decoded = new FrameReader(frame, 64 << 10);
        }
        compressed.clear().limit(length);
        reader.readPayload(compressed);
        compressed.flip();
        int bytes = batch.getNormalCount() * WireLimits.PAGE_SIZE;
        pages.clear().limit(bytes);
        codec.decompress(compressed, pages);
        pages.clear().limit(bytes);
        frame.clear();
        frameWriter.writePages(batch.toBuilder().clearCodec().build(), new ByteBuffer[] {pages}, 1);
        loader.load(decoded, decoded.next());
        pageBytes += bytes;
        wireBytes += length;
    }

    boolean alive() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing is all that is left to do
        }
    }

    void join(long millis) {
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One frame in memory: written whole by a FrameWriter, then read back by a FrameReader. */
    private static final class BufferChannel implements java.nio.channels.GatheringByteChannel,
            java.nio.channels.ReadableByteChannel {
        private final ByteBuffer buf;

        BufferChannel(int capacity) {
            buf = ByteBuffer.allocateDirect(capacity + 16);
        }

        private int readFrom;

        void clear() {
            buf.clear();
            readFrom = 0;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            buf.put(src);
            return n;
        }

        /** Reads what was written and not read yet; -1 once it is all read. */
        @Override
        public int read(ByteBuffer dst) {
            int n = Math.min(dst.remaining(), buf.position() - readFrom);
            if (n <= 0) {
                return -1;
            }
            dst.put(buf.slice(readFrom, n));
            readFrom += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
            // memory only
        }
    }
}
