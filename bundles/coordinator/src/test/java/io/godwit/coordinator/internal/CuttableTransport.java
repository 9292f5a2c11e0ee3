package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link UnixTestTransport} whose source channels can be cut: once armed, the channel that is open
 * when it has written {@code bytes} more is closed under the writer (both directions break, as when
 * the network goes), and the write throws.
 */
final class CuttableTransport extends ForwardingTransport {

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
    MigrationChannel outgoing(MigrationChannel channel) {
        return new ForwardingChannel(channel) {
            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                long n = inner.write(srcs, offset, length);
                if (budget.addAndGet(-n) < 0 && budget.getAndSet(Long.MAX_VALUE) < 0) {
                    cuts.incrementAndGet();
                    inner.close();
                    throw new IOException("injected: the link is cut");
                }
                return n;
            }
        };
    }
}
