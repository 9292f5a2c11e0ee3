package io.godwit.coordinator.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.RemoteMemoryChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * An accepted channel whose first bytes were read already (the header and hello a destination read
 * to learn its VM's shape), read again from the start: what was recorded, then the channel. So the
 * incoming migration reads the stream as from any channel, and checks the hello against the VM made
 * from it. While {@link #recording}, every byte read is kept; then {@link #replay} plays them back.
 */
class ReplayChannel implements MigrationChannel {

    private final MigrationChannel channel;
    private final ByteArrayOutputStream recorded = new ByteArrayOutputStream();
    private boolean recording = true;
    private ByteBuffer replay;

    ReplayChannel(MigrationChannel channel) {
        this.channel = channel;
    }

    /** Keeps the remote-memory verbs of an rdma channel visible to the incoming migration. */
    static ReplayChannel of(MigrationChannel channel) {
        return channel instanceof RemoteMemoryChannel remote ? new Remote(remote) : new ReplayChannel(channel);
    }

    /** From here, reads give what was recorded first, from its start. */
    void replay() {
        recording = false;
        replay = ByteBuffer.wrap(recorded.toByteArray());
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (replay != null && replay.hasRemaining()) {
            int n = Math.min(dst.remaining(), replay.remaining());
            dst.put(replay.slice(replay.position(), n));
            replay.position(replay.position() + n);
            return n;
        }
        int start = dst.position();
        int n = channel.read(dst);
        if (recording && n > 0) {
            byte[] bytes = new byte[n];
            dst.get(start, bytes);
            recorded.write(bytes, 0, n);
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return channel.write(srcs, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return channel.write(srcs);
    }

    @Override
    public String name() {
        return channel.name();
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** The listener an incoming migration takes: it hands out this channel, once. */
    IncomingListener asListener(String uri) {
        return new IncomingListener() {
            private boolean taken;

            @Override
            public String uri() {
                return uri;
            }

            @Override
            public synchronized MigrationChannel accept() throws IOException {
                if (taken) {
                    throw new IOException("the channel was taken");
                }
                taken = true;
                return ReplayChannel.this;
            }

            @Override
            public void close() {
                // the channel is the migration's, closed by it; nothing listens any more
            }
        };
    }

    private static final class Remote extends ReplayChannel implements RemoteMemoryChannel {
        private final RemoteMemoryChannel remote;

        Remote(RemoteMemoryChannel remote) {
            super(remote);
            this.remote = remote;
        }

        @Override
        public byte[] register(RamBlock block) throws IOException {
            return remote.register(block);
        }

        @Override
        public int attach(byte[] descriptor) throws IOException {
            return remote.attach(descriptor);
        }

        @Override
        public long regionSize(int region) {
            return remote.regionSize(region);
        }

        @Override
        public long post(int region, long offset, MemorySegment src) throws IOException, InterruptedException {
            return remote.post(region, offset, src);
        }

        @Override
        public long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException {
            return remote.poll(wanted, timeoutNanos);
        }
    }
}
