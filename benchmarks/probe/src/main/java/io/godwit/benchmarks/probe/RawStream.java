package io.godwit.benchmarks.probe;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.ByteSize;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The raw baseline of the migration benchmark: the same number of bytes as a guest's RAM, sent
 * between the same two host processes through the same {@link Transport} service the migration
 * uses, with nothing else in the way (no frames, no dirty tracking, no zero scan).
 *
 * <p>Both sides pay what a migration pays for memory and nothing more: the receiver reads straight
 * into a pre-faulted buffer the size of the guest (as a destination created with
 * {@code --mem-prealloc}), and the sender writes from a pre-faulted buffer in 1 MiB gathering writes
 * of 4 KiB page slices (as the migration's frame writer does, without headers). Both buffers are the
 * kind of memory guest RAM is ({@link RamLikeBuffer}: huge pages where the host gives them).
 * The receiver's clock runs from accept to the last byte read; its rate is the baseline.
 */
@Component(
        service = RawStream.class,
        immediate = true, // a receive outlives the command that started it: keep the instance
        property = {
            "osgi.command.scope=bench",
            "osgi.command.function=raw_listen",
            "osgi.command.function=raw_send",
            "osgi.command.function=raw_wait"
        })
public final class RawStream {

    static final int PAGE = 4096;
    static final int BATCH_PAGES = 256; // 1 MiB per gathering write

    private final Map<String, Transport> transports = new ConcurrentHashMap<>();
    private volatile Receive receive;

    @Reference(
            service = Transport.class,
            cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC,
            unbind = "removeTransport")
    void addTransport(Transport transport, Map<String, Object> properties) {
        transports.put(String.valueOf(properties.get(Transport.SCHEME)), transport);
    }

    void removeTransport(Transport transport, Map<String, Object> properties) {
        transports.remove(String.valueOf(properties.get(Transport.SCHEME)), transport);
    }

    @Deactivate
    void deactivate() {
        Receive r = receive;
        if (r != null) {
            r.abort();
        }
    }

    @Descriptor("listen for one raw stream of SIZE bytes through the Transport of URI's scheme, into a pre-faulted"
            + " buffer; prints the address (port 0 resolved) and returns at once; raw_wait prints the rate")
    public String raw_listen(
            @Descriptor("where to listen, e.g. tcp:127.0.0.1:0 or unix:/tmp/raw.sock") String uri,
            @Descriptor("bytes to receive, e.g. 1G") String size) throws IOException {
        if (receive != null) {
            throw new IllegalStateException("a raw receive is already waiting: raw_wait first");
        }
        long bytes = pages(size);
        Transport transport = transport(uri);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment buffer = prefault(RamLikeBuffer.allocate(bytes, arena));
            IncomingListener listener = transport.listenIncoming(address(uri));
            Receive r = new Receive(arena, buffer, listener);
            receive = r;
            Thread.ofPlatform().name("bench-raw-in").daemon().start(r::run);
            return "listening on " + listener.uri();
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Descriptor("wait for the raw receive started by raw_listen and print its rate; frees its buffer")
    public String raw_wait(@Descriptor("seconds to wait at most, e.g. 120") String seconds)
            throws InterruptedException {
        Receive r = receive;
        if (r == null) {
            throw new IllegalStateException("no raw receive: raw_listen first");
        }
        try {
            return r.result.get(Math.round(Double.parseDouble(seconds) * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            r.abort();
            throw new IllegalStateException("the raw receive did not end within " + seconds + " s");
        } catch (ExecutionException e) {
            throw new IllegalStateException("raw receive failed: " + e.getCause(), e.getCause());
        } finally {
            receive = null;
        }
    }

    @Descriptor("send one raw stream of SIZE bytes to URI through the Transport of its scheme, from a pre-faulted"
            + " buffer, in 1 MiB gathering writes of 4 KiB page slices; prints the sender's rate")
    public String raw_send(
            @Descriptor("where raw_listen listens, e.g. tcp:127.0.0.1:41234") String uri,
            @Descriptor("bytes to send, e.g. 1G") String size) throws IOException {
        long bytes = pages(size);
        Transport transport = transport(uri);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = prefault(RamLikeBuffer.allocate(bytes, arena));
            ByteBuffer[] slices = new ByteBuffer[BATCH_PAGES];
            long t0;
            try (MigrationChannel channel = transport.connectOutgoing(address(uri))) {
                t0 = System.nanoTime();
                for (long off = 0; off < bytes; off += (long) BATCH_PAGES * PAGE) {
                    int n = (int) Math.min(BATCH_PAGES, (bytes - off) / PAGE);
                    ByteBuffer batch = buffer.asSlice(off, (long) n * PAGE).asByteBuffer();
                    for (int i = 0; i < n; i++) {
                        slices[i] = batch.slice(i * PAGE, PAGE);
                    }
                    channel.write(slices, 0, n);
                }
                channel.shutdownOutput();
            }
            return rate("raw send", bytes, System.nanoTime() - t0);
        }
    }

    /** Writes every page (its index in the first 8 bytes): faults the buffer in before any clock runs. */
    static MemorySegment prefault(MemorySegment buffer) {
        for (long page = 0; page < buffer.byteSize() / PAGE; page++) {
            buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, page * PAGE, page + 1);
        }
        return buffer;
    }

    static String rate(String what, long bytes, long nanos) {
        double ms = nanos / 1e6;
        double mbps = bytes * 8.0 / ms / 1000.0;
        return String.format(Locale.ROOT, "%s: %d bytes in %.1f ms = %.2f mbps (%.1f MiB/s)",
                what, bytes, ms, mbps, bytes / (ms / 1000.0) / (1 << 20));
    }

    private Transport transport(String uri) {
        int colon = uri.indexOf(':');
        String scheme = colon < 0 ? uri : uri.substring(0, colon);
        Transport t = transports.get(scheme);
        if (t == null) {
            throw new IllegalArgumentException("no transport for '" + scheme + "' (have " + transports.keySet() + ")");
        }
        return t;
    }

    private static String address(String uri) {
        return uri.substring(uri.indexOf(':') + 1);
    }

    private static long pages(String size) {
        long bytes = ByteSize.parse(size);
        if (bytes <= 0 || bytes % PAGE != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 4 KiB: " + size);
        }
        return bytes;
    }

    /** One receive: accept, read everything into the buffer, check each page's index, free. */
    private static final class Receive {
        final Arena arena;
        final MemorySegment buffer;
        final IncomingListener listener;
        final CompletableFuture<String> result = new CompletableFuture<>();
        volatile MigrationChannel channel;

        Receive(Arena arena, MemorySegment buffer, IncomingListener listener) {
            this.arena = arena;
            this.buffer = buffer;
            this.listener = listener;
        }

        void run() {
            String outcome = null;
            Throwable failure = null;
            try (listener; MigrationChannel c = listener.accept()) {
                channel = c;
                long bytes = buffer.byteSize();
                // The clock starts at the first byte: an exec listener "accepts" (starts its command)
                // before the source has even started; for a socket, accept and first byte coincide.
                long t0 = 0;
                for (long off = 0; off < bytes; ) {
                    ByteBuffer chunk = buffer.asSlice(off, Math.min(BATCH_PAGES * PAGE, bytes - off)).asByteBuffer();
                    while (chunk.hasRemaining()) {
                        if (c.read(chunk) < 0) {
                            throw new IOException("the stream ended after " + (off + chunk.position()) + " bytes");
                        }
                        if (t0 == 0) {
                            t0 = System.nanoTime();
                        }
                    }
                    off += chunk.capacity();
                }
                long nanos = System.nanoTime() - t0;
                for (long page = 0; page < bytes / PAGE; page++) {
                    if (buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, page * PAGE) != page + 1) {
                        throw new IOException("page " + page + " arrived wrong");
                    }
                }
                outcome = rate("raw receive", bytes, nanos) + ", every page checked";
            } catch (Throwable e) {
                failure = e;
            } finally {
                arena.close(); // freed before raw_wait returns: the next measurement starts clean
            }
            if (failure != null) {
                result.completeExceptionally(failure);
            } else {
                result.complete(outcome);
            }
        }

        void abort() {
            try {
                listener.close();
                MigrationChannel c = channel;
                if (c != null) {
                    c.close();
                }
            } catch (IOException ignored) {
                // best effort: the receive thread fails and frees the buffer
            }
        }
    }
}
