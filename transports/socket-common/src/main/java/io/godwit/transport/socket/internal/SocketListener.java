package io.godwit.transport.socket.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A bound, blocking {@link ServerSocketChannel} as an {@link IncomingListener}. Each transport adds
 * its socket options to accepted sockets and may clean up after close (a unix socket file).
 */
public abstract class SocketListener implements IncomingListener {

    private final ServerSocketChannel server;
    private final String uri;
    private final AtomicBoolean closed = new AtomicBoolean();

    protected SocketListener(ServerSocketChannel server, String uri) {
        this.server = server;
        this.uri = uri;
    }

    @Override
    public final String uri() {
        return uri;
    }

    /** Blocks until a source connects; {@link #close} from another thread ends the wait. */
    @Override
    public final MigrationChannel accept() throws IOException {
        SocketChannel channel = server.accept();
        try {
            configure(channel);
            return new SocketMigrationChannel(channel, channelName(channel));
        } catch (IOException | RuntimeException e) {
            Sockets.closeAfterFailure(channel, e);
            throw e;
        }
    }

    /** Sets the transport's options on an accepted socket. */
    protected abstract void configure(SocketChannel channel) throws IOException;

    /** The name of an accepted channel; the listener's URI unless the transport knows better. */
    protected String channelName(SocketChannel channel) throws IOException {
        return uri;
    }

    /** Called once, after the server socket is closed. */
    protected void afterClose() throws IOException {}

    @Override
    public final void close() throws IOException {
        if (closed.compareAndSet(false, true)) {
            try {
                server.close();
            } finally {
                afterClose();
            }
        }
    }

    @Override
    public String toString() {
        return uri;
    }
}
