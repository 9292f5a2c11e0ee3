package io.godwit.coordinator.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The unix test transport with a link that can degrade: while {@link #trickle} is on, the
 * destination reads at most 4 KiB per call and waits {@link #READ_NANOS} before each (about 160 kB/s),
 * so the source's data waits in the socket buffers.
 */
final class TrickleTransport implements Transport {

    static final long READ_NANOS = 25_000_000L;
    private static final int READ_BYTES = 4096;

    volatile boolean trickle;
    /** Reads done while trickling. */
    final AtomicLong trickled = new AtomicLong();
    private final UnixTestTransport unix = new UnixTestTransport();

    @Override
    public Set<TransportCapability> capabilities() {
        return unix.capabilities();
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        return unix.connectOutgoing(address);
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        IncomingListener l = unix.listenIncoming(address);
        return new IncomingListener() {
            @Override
            public String uri() {
                return l.uri();
            }

            @Override
            public MigrationChannel accept() throws IOException {
                return slowed(l.accept());
            }

            @Override
            public void close() throws IOException {
                l.close();
            }
        };
    }

    private MigrationChannel slowed(MigrationChannel c) {
        return new MigrationChannel() {
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
                if (!trickle) {
                    return c.read(dst);
                }
                LockSupport.parkNanos(READ_NANOS);
                trickled.incrementAndGet();
                ByteBuffer some = dst.slice(dst.position(), Math.min(dst.remaining(), READ_BYTES));
                int n = c.read(some);
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
                return n;
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return c.write(src);
            }

            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                return c.write(srcs, offset, length);
            }

            @Override
            public long write(ByteBuffer[] srcs) throws IOException {
                return c.write(srcs);
            }

            @Override
            public boolean isOpen() {
                return c.isOpen();
            }

            @Override
            public void close() throws IOException {
                c.close();
            }
        };
    }
}
