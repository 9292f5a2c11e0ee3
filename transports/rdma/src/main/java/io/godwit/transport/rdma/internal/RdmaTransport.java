package io.godwit.transport.rdma.internal;

import static java.net.StandardProtocolFamily.INET;
import static java.net.StandardProtocolFamily.INET6;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.privatefiles.internal.PrivateFiles;
import io.godwit.transport.socket.internal.Sockets;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The simulated RDMA transport, {@code rdma:HOST:PORT[,bandwidth=SIZE][,latency=N(ns|us|ms|s)]}: a
 * TCP control channel for connection setup, memory registration and the migration stream, and
 * one-sided writes of pages straight into the destination's guest RAM, whose shared file the source
 * maps once the destination registered it under a key (see {@link RdmaChannel}).
 */
@Component(configurationPid = "io.godwit.transport.rdma", property = Transport.SCHEME + "=rdma")
public class RdmaTransport implements Transport {

    /** Configuration, PID {@code io.godwit.transport.rdma}. */
    public @interface Config {
        /** How long a connect may wait for the destination to answer. */
        int connect_timeout_ms() default 10_000;

        /**
         * Where registered regions' key files live; both hosts must see it, as the same folder (the source
         * looks keys up in its own). It must be a folder of this user's, made owner-only (0700) when
         * missing; an existing one keeps its mode. Empty: {@code godwit-rdma-<uid>} in /dev/shm, else in
         * java.io.tmpdir.
         */
        String registry_dir() default "";
    }

    private static final Logger LOG = LoggerFactory.getLogger(RdmaTransport.class);

    private final int connectTimeoutMs;
    private final Path registryFolder;

    @Activate
    public RdmaTransport(Config config) {
        this(config.connect_timeout_ms(), config.registry_dir().isEmpty() ? defaultFolder() : Path.of(config.registry_dir()));
    }

    RdmaTransport(int connectTimeoutMs, Path registryFolder) {
        this.connectTimeoutMs = connectTimeoutMs;
        this.registryFolder = registryFolder.toAbsolutePath();
        MemoryRegistry.removeStale(this.registryFolder);
        PrivateFiles.exposure(this.registryFolder).ifPresent(how -> LOG.warn("rdma: registry folder {} is open to other"
                + " users ({}): they can see which RAM files are registered; Godwit leaves the mode of a folder it did"
                + " not create as it is", this.registryFolder, how));
    }

    /** A folder of this user's own: in the shared /dev/shm itself, every user could list and remove the keys. */
    static Path defaultFolder() {
        Path shm = Path.of("/dev/shm");
        Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return base.resolve("godwit-rdma-" + PrivateFiles.ownUid().map(String::valueOf)
                .orElse(System.getProperty("user.name")));
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return EnumSet.of(TransportCapability.BIDIRECTIONAL, TransportCapability.MULTI_CHANNEL,
                TransportCapability.REMOTE_MEMORY_WRITE);
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        RdmaAddress rdma = RdmaAddress.parse(address);
        if (rdma.port() == 0) {
            throw new IllegalArgumentException("rdma port 0 can only be listened on: '" + address + "'");
        }
        String uri = rdma.toString();
        SocketChannel channel = null;
        try {
            InetSocketAddress remote = rdma.resolve();
            channel = SocketChannel.open(remote.getAddress() instanceof Inet6Address ? INET6 : INET);
            configure(channel);
            channel.socket().connect(remote, connectTimeoutMs);
            Handshake.send(channel, rdma.link());
            return new RdmaChannel(channel, uri, rdma.link(), null, registryFolder);
        } catch (IOException e) {
            if (channel != null) {
                Sockets.closeAfterFailure(channel, e);
            }
            throw Sockets.describe(uri, e);
        }
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        RdmaAddress rdma = RdmaAddress.parse(address);
        ServerSocketChannel server = null;
        try {
            InetSocketAddress local = rdma.resolve();
            server = ServerSocketChannel.open(local.getAddress() instanceof Inet6Address ? INET6 : INET);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(local);
            String uri = RdmaAddress.uri((InetSocketAddress) server.getLocalAddress());
            return new RdmaListener(server, uri, rdma.link(), registryFolder);
        } catch (IOException e) {
            if (server != null) {
                Sockets.closeAfterFailure(server, e);
            }
            throw Sockets.describe(rdma.toString(), e);
        }
    }

    static void configure(SocketChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
}
