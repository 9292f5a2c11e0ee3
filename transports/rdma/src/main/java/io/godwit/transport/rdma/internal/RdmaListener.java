package io.godwit.transport.rdma.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.transport.socket.internal.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The destination's control channel listener: accepts a connection and does the handshake. {@link
 * #close} also closes a connection still in its handshake, so a silent peer cannot hold accept.
 */
final class RdmaListener implements IncomingListener {

    private final ServerSocketChannel server;
    private final String uri;
    private final LinkModel link;
    private final Path registryFolder;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile SocketChannel handshaking;

    RdmaListener(ServerSocketChannel server, String uri, LinkModel link, Path registryFolder) {
        this.server = server;
        this.uri = uri;
        this.link = link;
        this.registryFolder = registryFolder;
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public MigrationChannel accept() throws IOException {
        SocketChannel channel = server.accept();
        handshaking = channel;
        try {
            RdmaTransport.configure(channel);
            String name = uri + " from " + RdmaAddress.uri((InetSocketAddress) channel.getRemoteAddress())
                    .substring("rdma:".length());
            if (closed.get()) {
                throw new java.nio.channels.AsynchronousCloseException();
            }
            LinkModel peer = Handshake.receive(channel, name);
            if (peer == null) {
                throw new java.io.EOFException(name + ": the peer closed the connection during the rdma handshake");
            }
            return new RdmaChannel(channel, name, link, peer, registryFolder);
        } catch (IOException | RuntimeException e) {
            Sockets.closeAfterFailure(channel, e);
            throw e;
        } finally {
            handshaking = null;
        }
    }

    @Override
    public void close() throws IOException {
        if (closed.compareAndSet(false, true)) {
            SocketChannel h = handshaking;
            try {
                server.close();
            } finally {
                if (h != null) {
                    h.close();
                }
            }
        }
    }

    @Override
    public String toString() {
        return uri;
    }
}
