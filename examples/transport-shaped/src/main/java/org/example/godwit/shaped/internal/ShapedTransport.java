package org.example.godwit.shaped.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * {@code shaped:HOST:PORT[,rate=R][,cut=N]}: TCP whose source side is paced to a bandwidth and may be
 * cut after N bytes, to watch a migration on a slow link or through a link failure. An example of a
 * transport written outside Godwit: one component, the published SPI only, its own sockets.
 */
@Component(property = Transport.SCHEME + "=shaped")
public class ShapedTransport implements Transport {

    /** How long a connect waits for the destination to answer, so a dead host fails the migration. */
    static final int CONNECT_TIMEOUT_MS = 10_000;

    private final int connectTimeoutMs;

    public ShapedTransport() {
        this(CONNECT_TIMEOUT_MS);
    }

    ShapedTransport(int connectTimeoutMs) {
        this.connectTimeoutMs = connectTimeoutMs;
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return EnumSet.of(TransportCapability.BIDIRECTIONAL, TransportCapability.MULTI_CHANNEL);
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        ShapedAddress a = ShapedAddress.parse(address);
        String name = "shaped:" + address;
        SocketChannel socket = SocketChannel.open();
        try {
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            socket.socket().connect(a.socketAddress(), connectTimeoutMs);
            return new ShapedChannel(socket, name, a.rate(), a.cut());
        } catch (IOException e) {
            socket.close();
            throw new IOException(name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        ShapedAddress a = ShapedAddress.parse(address);
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.bind(a.socketAddress());
        } catch (IOException e) {
            server.close();
            throw new IOException("shaped:" + address + ": " + e.getMessage(), e);
        }
        InetSocketAddress bound = (InetSocketAddress) server.getLocalAddress();
        String uri = "shaped:" + bound.getAddress().getHostAddress() + ":" + bound.getPort();
        return new IncomingListener() {
            @Override
            public String uri() {
                return uri;
            }

            /** Destination channels are plain: the shaping is the source's. */
            @Override
            public MigrationChannel accept() throws IOException {
                if (!server.isOpen()) {
                    throw new ClosedChannelException();
                }
                SocketChannel s = server.accept();
                s.setOption(StandardSocketOptions.TCP_NODELAY, true);
                return new ShapedChannel(s, uri, 0, 0);
            }

            @Override
            public void close() throws IOException {
                server.close();
            }
        };
    }
}
