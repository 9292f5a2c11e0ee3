package io.godwit.coordinator.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * A unix socket transport for tests that migrate without OSGi: the coordinator's own and the tracker
 * test kit's (the real transports are their own bundles).
 */
public final class UnixTestTransport implements Transport {

    @Override
    public Set<TransportCapability> capabilities() {
        return Set.of(TransportCapability.BIDIRECTIONAL);
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        return wrap(SocketChannel.open(UnixDomainSocketAddress.of(address)), address);
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        Files.deleteIfExists(Path.of(address));
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(address));
        return new IncomingListener() {
            @Override
            public String uri() {
                return "unix:" + address;
            }

            @Override
            public MigrationChannel accept() throws IOException {
                return wrap(server.accept(), address);
            }

            @Override
            public void close() throws IOException {
                server.close();
                Files.deleteIfExists(Path.of(address));
            }
        };
    }

    private static MigrationChannel wrap(SocketChannel ch, String address) {
        return new MigrationChannel() {
            @Override
            public String name() {
                return "unix:" + address;
            }

            @Override
            public void shutdownOutput() throws IOException {
                ch.shutdownOutput();
            }

            @Override
            public int read(ByteBuffer dst) throws IOException {
                return ch.read(dst);
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return ch.write(src);
            }

            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                return ch.write(srcs, offset, length);
            }

            @Override
            public long write(ByteBuffer[] srcs) throws IOException {
                return ch.write(srcs);
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
}
