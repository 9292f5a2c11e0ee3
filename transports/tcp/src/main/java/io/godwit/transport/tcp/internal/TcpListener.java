package io.godwit.transport.tcp.internal;

import io.godwit.transport.socket.internal.SocketListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** A tcp listener; accepted channels are named after the listener and the peer. */
final class TcpListener extends SocketListener {

    private final int bufferBytes;

    TcpListener(ServerSocketChannel server, String uri, int bufferBytes) {
        super(server, uri);
        this.bufferBytes = bufferBytes;
    }

    @Override
    protected void configure(SocketChannel channel) throws IOException {
        TcpTransport.configure(channel, bufferBytes);
    }

    @Override
    protected String channelName(SocketChannel channel) throws IOException {
        String peer = TcpAddress.uri((InetSocketAddress) channel.getRemoteAddress());
        return uri() + " from " + peer.substring("tcp:".length());
    }
}
