package io.godwit.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A management tool's poll, as the issue has it: a QMP client (written to QEMU's specification, with
 * Jackson; nothing shared with the server) that sends {@code query-migrate} every {@link #PERIOD_MS}
 * on its own thread ({@code bench-qmp-poll}) until stopped, and times each answer from the request's
 * send to its reply's last byte. Events between replies (STOP on the source) are skipped.
 */
final class QmpPoller implements AutoCloseable {

    static final long PERIOD_MS = 100;
    /** A poll slower than this is printed with its time. */
    private static final double SLOW_MS = 50;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] QUERY = "{\"execute\": \"query-migrate\"}\n".getBytes(StandardCharsets.UTF_8);

    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;
    private final Thread thread;
    private final List<Double> latenciesMs = new ArrayList<>();
    private volatile boolean stopping;
    private volatile String error;

    /** Connects and negotiates now; polling starts with {@link #start}. */
    QmpPoller(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        out = Channels.newOutputStream(channel);
        JsonNode greeting = JSON.readTree(in.readLine());
        if (!greeting.has("QMP")) {
            throw new IOException("not a QMP greeting: " + greeting);
        }
        out.write("{\"execute\": \"qmp_capabilities\"}\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        reply();
        thread = new Thread(this::loop, "bench-qmp-poll");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        long next = System.nanoTime();
        try {
            while (!stopping) {
                long t0 = System.nanoTime();
                long wall = System.currentTimeMillis();
                out.write(QUERY);
                out.flush();
                reply();
                double ms = (System.nanoTime() - t0) / 1e6;
                synchronized (latenciesMs) {
                    latenciesMs.add(ms);
                }
                if (ms > SLOW_MS) { // when, so it can be matched with the hosts' GC and safepoint logs
                    System.err.printf(java.util.Locale.ROOT, "slow poll: sent at %s, answered after %.1f ms%n",
                            java.time.Instant.ofEpochMilli(wall), ms);
                }
                next += PERIOD_MS * 1_000_000; // every 100 ms from the first, however long one took
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                } else {
                    next = System.nanoTime();
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!stopping) {
                error = e.toString();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next reply; an error reply or a closed socket throws. */
    private JsonNode reply() throws IOException {
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QMP closed the connection");
            }
            JsonNode m = JSON.readTree(line);
            if (m.has("return")) {
                return m;
            }
            if (m.has("error")) {
                throw new IOException("QMP error: " + m.get("error"));
            }
        }
    }

    /** Stops polling (the poll under way is answered first) and returns each poll's latency in ms. */
    List<Double> stop() throws InterruptedException {
        stopping = true;
        thread.join(10_000);
        synchronized (latenciesMs) {
            return List.copyOf(latenciesMs);
        }
    }

    /** Why polling stopped early, or null. */
    String error() {
        return error;
    }

    @Override
    public void close() throws IOException {
        stopping = true;
        channel.close();
    }
}
