package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The unix test transport with a link that can degrade: while {@link #trickle} is on, the
 * destination reads at most 4 KiB per call and waits {@link #READ_NANOS} before each (about 160 kB/s),
 * so the source's data waits in the socket buffers.
 */
final class TrickleTransport extends ForwardingTransport {

    static final long READ_NANOS = 25_000_000L;
    private static final int READ_BYTES = 4096;

    volatile boolean trickle;
    /** Reads done while trickling. */
    final AtomicLong trickled = new AtomicLong();

    @Override
    MigrationChannel incoming(MigrationChannel channel) {
        return slowed(channel);
    }

    private MigrationChannel slowed(MigrationChannel c) {
        return new ForwardingChannel(c) {
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
        };
    }
}
