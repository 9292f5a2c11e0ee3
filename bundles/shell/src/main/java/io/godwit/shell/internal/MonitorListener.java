package io.godwit.shell.internal;

import io.godwit.privatefiles.internal.PrivateSocket;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.felix.service.command.CommandProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitor socket: a unix domain listener whose thread {@code monitor-accept} hands each
 * connection to a thread {@code monitor-session-<n>}, so commands from several clients run at once.
 * The socket file is owner-only (0600) from the moment it appears ({@link PrivateSocket}), and each
 * client's user is checked as it is accepted ({@link MonitorPeers}): a session of a client that may
 * not give commands runs none, and the host's log says who was turned away.
 */
final class MonitorListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MonitorListener.class);

    private final Path path;
    private final CommandProcessor processor;
    private final Duration drain;
    private final ServerSocketChannel server;
    private final MonitorPeers peers;
    private final Thread acceptor;
    private final Map<Thread, MonitorSession> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger sessionCount = new AtomicInteger();

    /**
     * Binds {@code path} and starts accepting.
     *
     * @param drain how long {@link #close} lets running sessions finish before it cuts them off
     * @throws IOException when the path cannot be bound, or another live process listens on it
     */
    MonitorListener(Path path, CommandProcessor processor, Duration drain) throws IOException {
        this(path, processor, drain, MonitorPeers.ofThisProcess());
    }

    /** As above, letting in the clients that {@code peers} admits. */
    MonitorListener(Path path, CommandProcessor processor, Duration drain, MonitorPeers peers) throws IOException {
        this.path = path.toAbsolutePath();
        this.processor = processor;
        this.drain = drain;
        this.peers = peers;
        if (PrivateSocket.removeStale(this.path)) {
            LOG.info("removed stale monitor socket {}", this.path);
        }
        try {
            this.server = PrivateSocket.bind(this.path);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + this.path + ": " + e.getMessage(), e);
        }
        this.acceptor = new Thread(this::acceptLoop, "monitor-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("monitor listening on unix:{}", this.path);
    }

    Path path() {
        return path;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException closed) {
                return; // close() was called
            } catch (IOException e) {
                LOG.error("monitor stops accepting on {}", path, e);
                return;
            }
            Optional<String> refusal = peers.refusal(channel);
            refusal.ifPresent(why -> LOG.warn("monitor on unix:{} refused a client: {}", path, why));
            MonitorSession session = new MonitorSession(channel, processor, refusal.orElse(null));
            Thread thread = new Thread(
                    () -> {
                        try {
                            session.run();
                        } finally {
                            sessions.remove(Thread.currentThread());
                        }
                    },
                    "monitor-session-" + sessionCount.incrementAndGet());
            thread.setDaemon(true);
            sessions.put(thread, session);
            thread.start();
        }
    }

    /**
     * Stops accepting, lets running sessions finish for up to the drain time (so the reply to
     * {@code quit} still reaches its client), then cuts the rest off and deletes the socket file.
     */
    @Override
    public void close() throws InterruptedException {
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("closing monitor socket {}: {}", path, e.toString());
        }
        acceptor.join(drain.toMillis() + 1000);
        long deadline = System.nanoTime() + drain.toNanos();
        for (Thread t : sessions.keySet()) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                t.join(Duration.ofNanos(left));
            }
        }
        for (Map.Entry<Thread, MonitorSession> e : sessions.entrySet()) {
            try {
                e.getValue().channel().close();
            } catch (IOException ignored) {
                // being cut off is all that is left to do for this client
            }
            e.getKey().interrupt();
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot delete monitor socket {}: {}", path, e.toString());
        }
        LOG.info("monitor on unix:{} closed", path);
    }
}
