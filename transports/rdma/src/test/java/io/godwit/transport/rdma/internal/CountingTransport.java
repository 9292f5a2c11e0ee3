package io.godwit.transport.rdma.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.RemoteMemoryChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The rdma transport with counters: bytes posted as one-sided writes and bytes written to the control
 * channels by sources, so a test sees which path the pages took. Optionally closes the source's
 * channel once a number of bytes were posted: the source dies mid-write. Optionally slows the
 * destination per read: each read of its control channel first sleeps, so the source's stream piles
 * up and every read fills the destination's buffer with frames it has not applied yet.
 */
final class CountingTransport implements Transport {

    final AtomicLong posted = new AtomicLong();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong streamed = new AtomicLong();
    volatile long closeSourceAfterPosted = Long.MAX_VALUE;
    volatile long destinationReadDelayNanos;
    private final Transport rdma;

    CountingTransport(Transport rdma) {
        this.rdma = rdma;
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return rdma.capabilities();
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        connects.incrementAndGet();
        return new Counted((RemoteMemoryChannel) rdma.connectOutgoing(address), false);
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        IncomingListener l = rdma.listenIncoming(address);
        return new IncomingListener() {
            @Override
            public String uri() {
                return l.uri();
            }

            @Override
            public MigrationChannel accept() throws IOException {
                return new Counted((RemoteMemoryChannel) l.accept(), true);
            }

            @Override
            public void close() throws IOException {
                l.close();
            }
        };
    }

    private final class Counted implements RemoteMemoryChannel {
        private final RemoteMemoryChannel c;
        private final boolean destination;

        Counted(RemoteMemoryChannel c, boolean destination) {
            this.c = c;
            this.destination = destination;
        }

        @Override
        public long post(int region, long offset, MemorySegment src) throws IOException, InterruptedException {
            if (posted.addAndGet(src.byteSize()) > closeSourceAfterPosted) {
                c.close(); // what the destination sees of a source killed mid-write
            }
            return c.post(region, offset, src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = c.write(srcs, offset, length);
            countStreamed(n);
            return n;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = c.write(src);
            countStreamed(n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        private void countStreamed(long n) {
            if (!destination) {
                streamed.addAndGet(n);
            }
        }

        @Override
        public byte[] register(RamBlock block) throws IOException {
            return c.register(block);
        }

        @Override
        public int attach(byte[] descriptor) throws IOException {
            return c.attach(descriptor);
        }

        @Override
        public long regionSize(int region) {
            return c.regionSize(region);
        }

        @Override
        public long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException {
            return c.poll(wanted, timeoutNanos);
        }

        @Override
        public String name() {
            return c.name();
        }

        @Override
        public void shutdownOutput() throws IOException {
            c.shutdownOutput();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            long delay = destinationReadDelayNanos;
            if (destination && delay > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(delay); // a destination slowed per read
            }
            return c.read(dst);
        }

        @Override
        public boolean isOpen() {
            return c.isOpen();
        }

        @Override
        public void close() throws IOException {
            c.close();
        }
    }
}
