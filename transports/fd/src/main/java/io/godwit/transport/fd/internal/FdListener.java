package io.godwit.transport.fd.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * A destination's fd "listener": the stream is already there, so {@link #accept} returns the
 * descriptor's channel at once, one time. Closed before accept (a cancel), it closes the descriptor:
 * it is consumed either way.
 */
final class FdListener implements IncomingListener {

    private final Inherited descriptor;
    private boolean accepted;
    private boolean closed;

    FdListener(Inherited descriptor) {
        this.descriptor = descriptor;
    }

    @Override
    public String uri() {
        return descriptor.uri();
    }

    @Override
    public synchronized MigrationChannel accept() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (accepted) {
            throw new IOException(uri() + ": accepted already; a descriptor carries one stream");
        }
        accepted = true;
        try {
            return new FdChannel(descriptor);
        } catch (IOException | RuntimeException e) {
            descriptor.closeUnused();
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        if (!closed && !accepted) {
            descriptor.closeUnused();
        }
        closed = true;
    }

    @Override
    public String toString() {
        return uri();
    }
}
