package io.godwit.qmp.internal;

import io.godwit.privatefiles.internal.PrivateSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QMP listening socket of a VM ({@code unix:PATH}, owner-only, or {@code tcp:HOST:PORT}): the
 * thread {@code qmp-<vm>-accept} gives each client a session on a thread {@code qmp-<vm>-<n>}, so
 * several clients are served at once, as QEMU serves several monitors.
 */
final class QmpServer {

    private static final Logger LOG = LoggerFactory.getLogger(QmpServer.class);
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private final String vm;
    private final ServerSocketChannel server;
    private final String address;
    private final Path socketFile;
    private final BiFunction<SocketChannel, String, QmpSession> sessions;
    private final Set<QmpSession> live = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private QmpServer(String vm, ServerSocketChannel server, String address, Path socketFile,
            BiFunction<SocketChannel, String, QmpSession> sessions) {
        this.vm = vm;
        this.server = server;
        this.address = address;
        this.socketFile = socketFile;
        this.sessions = sessions;
        this.acceptor = new Thread(this::acceptLoop, "qmp-" + vm + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("QMP of VM {} listening on {}", vm, address);
    }

    /**
     * Listens on {@code address}.
     *
     * @param sessions makes the session of an accepted client, given the name of its thread
     * @throws IllegalArgumentException for an address that is not {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @throws IOException when it cannot be bound, with the address in the message
     */
    static QmpServer open(String vm, String address, BiFunction<SocketChannel, String, QmpSession> sessions)
            throws IOException {
        String a = address.strip();
        if (a.startsWith("unix:") && a.length() > "unix:".length()) {
            Path path = Path.of(a.substring("unix:".length())).toAbsolutePath();
            try {
                PrivateSocket.removeStale(path);
                return new QmpServer(vm, PrivateSocket.bind(path), "unix:" + path, path, sessions);
            } catch (IOException e) {
                throw new IOException("cannot listen on unix:" + path + ": " + e.getMessage(), e);
            }
        }
        if (a.startsWith("tcp:")) {
            InetSocketAddress bind = tcp(a);
            ServerSocketChannel server = ServerSocketChannel.open();
            try {
                server.bind(bind);
            } catch (IOException e) {
                server.close();
                throw new IOException("cannot listen on " + a + ": " + e.getMessage(), e);
            }
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            return new QmpServer(vm, server, "tcp:" + bind.getHostString() + ":" + port, null, sessions);
        }
        throw new IllegalArgumentException("a QMP address is unix:PATH or tcp:HOST:PORT, not '" + address + "'");
    }

    private static InetSocketAddress tcp(String a) {
        String hostPort = a.substring("tcp:".length());
        int colon = hostPort.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(hostPort.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a QMP address is tcp:HOST:PORT (port 0 to 65535), not '" + a + "'");
        }
    }

    String address() {
        return address;
    }

    /** Sends an event line to every client that has negotiated. */
    void broadcast(byte[] line) {
        live.forEach(s -> s.event(line));
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException closed) {
                return; // close() was called
            } catch (IOException e) {
                LOG.error("QMP of VM {} stops accepting on {}", vm, address, e);
                return;
            }
            String name = "qmp-" + vm + "-" + CLIENTS.incrementAndGet();
            QmpSession session = sessions.apply(channel, name);
            live.add(session);
            Thread t = new Thread(() -> {
                try {
                    session.run();
                } finally {
                    live.remove(session);
                }
            }, name);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Stops accepting, deletes the socket file, ends every session (what is queued for it is sent within {@code drain}). */
    void close(Duration drain) {
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing QMP socket {}: {}", address, e.toString());
        }
        try {
            acceptor.join(drain);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (socketFile != null) { // first: once a client sees its connection end, the file is gone
            try {
                Files.deleteIfExists(socketFile);
            } catch (IOException e) {
                LOG.warn("cannot delete QMP socket {}: {}", socketFile, e.toString());
            }
        }
        live.forEach(s -> s.end(drain));
        LOG.info("QMP of VM {} on {} closed", vm, address);
    }
}
