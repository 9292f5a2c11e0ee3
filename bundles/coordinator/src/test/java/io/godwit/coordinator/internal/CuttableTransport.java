package io.godwit.coordinator.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link UnixTestTransport} whose source channels can be cut: once armed, the channel that is open
 * when it has written {@code bytes} more is closed under the writer (both directions break, as when
 * the network goes), and the write throws.
 */
final class CuttableTransport implements Transport {

    private final UnixTestTransport unix = new UnixTestTransport();
    private final AtomicLong budget = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong cuts = new AtomicLong();

    /** The next {@code bytes} written (on any source channel) are the last before a cut. */
    void cutAfter(long bytes) {
        budget.set(bytes);
    }

    long cuts() {
        return cuts.get();
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return unix.capabilities();
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        MigrationChannel ch = unix.connectOutgoing(address);
        return new MigrationChannel() {
            @Override
            public String name() {
                return "cut:" + address;
            }

            @Override
            public int read(ByteBuffer dst) throws IOException {
                return ch.read(dst);
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return (int) write(new ByteBuffer[] {src}, 0, 1);
            }

            @Override
            public long write(ByteBuffer[] srcs) throws IOException {
                return write(srcs, 0, srcs.length);
            }

            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                long n = ch.write(srcs, offset, length);
                if (budget.addAndGet(-n) < 0 && budget.getAndSet(Long.MAX_VALUE) < 0) {
                    cuts.incrementAndGet();
                    ch.close();
                    throw new IOException("injected: the link is cut");
                }
                return n;
            }

            @Override
            public void shutdownOutput() throws IOException {
                ch.shutdownOutput();
            }

            @Override
            public boolean isOpen() {
                return ch.isOpen();
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        return unix.listenIncoming(address);
    }
}
