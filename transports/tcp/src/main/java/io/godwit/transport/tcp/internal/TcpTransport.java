package io.godwit.transport.tcp.internal;

import static java.net.StandardProtocolFamily.INET;
import static java.net.StandardProtocolFamily.INET6;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.transport.socket.internal.SocketMigrationChannel;
import io.godwit.transport.socket.internal.Sockets;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/** The {@code tcp:HOST:PORT} transport: blocking NIO sockets with TCP_NODELAY. */
@Component(configurationPid = "io.godwit.transport.tcp", property = Transport.SCHEME + "=tcp")
public class TcpTransport implements Transport {

    /** Configuration, PID {@code io.godwit.transport.tcp}. */
    public @interface Config {
        /** How long a connect may wait for the destination to answer. */
        int connect_timeout_ms() default 10_000;

        /** SO_SNDBUF and SO_RCVBUF in bytes; 0 leaves the kernel's autotuning on. */
        int socket_buffer_bytes() default DEFAULT_BUFFER;
    }

    /**
     * Autotuning: on loopback 1 or 4 MiB fixed buffers measured the same within the noise, and a fixed
     * size caps the window on a long link (and is silently cut to net.core.wmem_max on most hosts).
     */
    static final int DEFAULT_BUFFER = 0;

    private final int connectTimeoutMs;
    private final int bufferBytes;

    @Activate
    public TcpTransport(Config config) {
        this(config.connect_timeout_ms(), config.socket_buffer_bytes());
    }

    TcpTransport(int connectTimeoutMs, int bufferBytes) {
        this.connectTimeoutMs = connectTimeoutMs;
        this.bufferBytes = bufferBytes;
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return EnumSet.of(TransportCapability.BIDIRECTIONAL, TransportCapability.MULTI_CHANNEL);
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        TcpAddress tcp = TcpAddress.parse(address);
        if (tcp.port() == 0) {
            throw new IllegalArgumentException("tcp port 0 can only be listened on: '" + address + "'");
        }
        String uri = tcp.toString();
        SocketChannel channel = null;
        try {
            InetSocketAddress remote = tcp.resolve();
            channel = SocketChannel.open(remote.getAddress() instanceof Inet6Address ? INET6 : INET);
            configure(channel, bufferBytes);
            channel.socket().connect(remote, connectTimeoutMs);
            return new SocketMigrationChannel(channel, uri);
        } catch (IOException e) {
            if (channel != null) {
                Sockets.closeAfterFailure(channel, e);
            }
            throw Sockets.describe(uri, e);
        }
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        TcpAddress tcp = TcpAddress.parse(address);
        ServerSocketChannel server = null;
        try {
            InetSocketAddress local = tcp.resolve();
            server = ServerSocketChannel.open(local.getAddress() instanceof Inet6Address ? INET6 : INET);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (bufferBytes > 0) {
                server.setOption(StandardSocketOptions.SO_RCVBUF, bufferBytes); // before bind: window scale
            }
            server.bind(local);
            String uri = TcpAddress.uri((InetSocketAddress) server.getLocalAddress());
            return new TcpListener(server, uri, bufferBytes);
        } catch (IOException e) {
            if (server != null) {
                Sockets.closeAfterFailure(server, e);
            }
            throw Sockets.describe(tcp.toString(), e);
        }
    }

    static void configure(SocketChannel channel, int bufferBytes) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Sockets.setBuffers(channel, bufferBytes);
    }
}
