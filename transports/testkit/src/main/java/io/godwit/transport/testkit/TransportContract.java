package io.godwit.transport.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transport test kit: what every transport must do, on real channels. A transport's test
 * extends this class and says how to listen, how a source reaches a listener and where nothing
 * answers; the kit runs the tests that fit the transport's declared capabilities
 * ({@link TransportCapability#BIDIRECTIONAL}: both directions and the return path;
 * {@link TransportCapability#MULTI_CHANNEL}: several sources on one listener).
 *
 * <p>Covered: connect and listen, a 256 MiB transfer of gathered page slices checked by CRC, more
 * buffers than IOV_MAX in one gathering write, an orderly end ({@code shutdownOutput}), peer death on
 * either side, close from another thread (how the coordinator cancels) unblocking read, write and
 * accept, and no file descriptor or thread left behind.
 *
 * <p>Use: depend on {@code io.godwit:godwit-transport-testkit} in test scope and write
 * {@code class MyTransportTest extends TransportContract { ... }}.
 */
@Timeout(120)
public abstract class TransportContract {

    protected static final int PAGE = 4096;

    /** The transport under test, outside OSGi (constructed directly). */
    protected abstract Transport transport();

    /** The URI scheme, for example {@code tcp}. */
    protected abstract String scheme();

    /** A fresh address to listen on (each call may be used once). */
    protected abstract String listenAddress() throws IOException;

    /**
     * An address where no destination will take the stream: connecting fails, or at the latest the
     * writes and {@code shutdownOutput} of a few MiB do.
     */
    protected abstract String deadAddress() throws IOException;

    /** The address a source passes to connectOutgoing to reach {@code listener}; by default its URI's. */
    protected String connectAddress(IncomingListener listener) throws IOException {
        return address(listener);
    }

    /**
     * Whether {@link IncomingListener#accept} waits for a source (sockets) rather than opening the
     * stream at once (a command, an inherited descriptor).
     */
    protected boolean acceptWaitsForASource() {
        return true;
    }

    /** The address part of a listener's URI, as a source would pass it to connectOutgoing. */
    protected static String address(IncomingListener listener) {
        return listener.uri().substring(listener.uri().indexOf(':') + 1);
    }

    /** A listener with one accepted channel and the source end connected to it. */
    protected record Pair(IncomingListener listener, MigrationChannel source, MigrationChannel destination)
            implements AutoCloseable {
        /** Public, so that a subclass elsewhere can override {@link #connect} (a channel wrapper's handshake). */
        public Pair {}

        @Override
        public void close() throws IOException {
            try (listener; source; destination) {
                // closes all three
            }
        }
    }

    protected Pair connect() throws IOException {
        IncomingListener listener = transport().listenIncoming(listenAddress());
        MigrationChannel source = null;
        try {
            source = transport().connectOutgoing(connectAddress(listener));
            return new Pair(listener, source, listener.accept());
        } catch (IOException | RuntimeException e) {
            closeAll(e, source, listener);
            throw e;
        }
    }

    private Set<TransportCapability> capabilities() throws IOException {
        try (IncomingListener listener = transport().listenIncoming(listenAddress())) {
            return transport().capabilities(connectAddress(listener));
        }
    }

    private boolean bidirectional() throws IOException {
        return capabilities().contains(TransportCapability.BIDIRECTIONAL);
    }

    // ---- both kinds

    @Test
    void anAddressOffersNoMoreThanTheTransportDeclares() throws IOException {
        Set<TransportCapability> general = transport().capabilities();
        Set<TransportCapability> here = capabilities();
        assertTrue(general.containsAll(here), "capabilities(address) " + here + " beyond capabilities() " + general);
    }

    @Test
    void carriesBytesToTheDestinationAndNamesItsEnds() throws Exception {
        try (Pair pair = connect()) {
            assertTrue(pair.listener().uri().startsWith(scheme() + ":"), pair.listener().uri());
            assertTrue(pair.source().name().startsWith(scheme() + ":"), pair.source().name());
            assertTrue(pair.destination().name().startsWith(scheme() + ":"), pair.destination().name());
            send(pair.source(), "hello");
            assertEquals("hello", receive(pair.destination(), 5));
        }
    }

    @Test
    void moves256MiBOfGatheredPagesIntact() throws Exception {
        long pages = 256L * 1024 * 1024 / PAGE;
        try (Pair pair = connect(); Arena arena = Arena.ofShared()) {
            MemorySegment ram = randomRam(arena, 64L << 20, 42);
            FutureTask<long[]> received = fork("receiver", () -> drain(pair.destination()));
            CRC32C sent = new CRC32C();
            ByteBuffer[] batch = new ByteBuffer[257];
            ByteBuffer header = ByteBuffer.allocate(16);
            long bytes = 0;
            for (long page = 0; page < pages; page += 256) {
                header.clear().putLong(page).putLong(256).flip();
                batch[0] = header;
                for (int i = 0; i < 256; i++) {
                    long offset = ((page + i) * PAGE) % ram.byteSize();
                    batch[i + 1] = ram.asSlice(offset, PAGE).asByteBuffer();
                }
                for (ByteBuffer b : batch) {
                    sent.update(b.duplicate());
                }
                long expected = 16 + 256L * PAGE;
                assertEquals(expected, pair.source().write(batch));
                bytes += expected;
                for (ByteBuffer b : batch) {
                    assertFalse(b.hasRemaining());
                }
            }
            pair.source().shutdownOutput();
            long[] got = received.get(60, TimeUnit.SECONDS);
            assertEquals(bytes, got[0]);
            assertEquals(sent.getValue(), got[1]);
        }
    }

    @Test
    void aGatheringWriteOfMoreBuffersThanIovMaxWritesThemAll() throws Exception {
        try (Pair pair = connect()) {
            ByteBuffer[] many = new ByteBuffer[3000];
            for (int i = 0; i < many.length; i++) {
                many[i] = ByteBuffer.allocateDirect(100).put(0, (byte) i);
            }
            FutureTask<long[]> received = fork("receiver", () -> drain(pair.destination()));
            assertEquals(300_000, pair.source().write(many, 0, many.length));
            pair.source().shutdownOutput();
            assertEquals(300_000, received.get(30, TimeUnit.SECONDS)[0]);
        }
    }

    @Test
    void shutdownOutputIsAnOrderlyEndOfStream() throws Exception {
        try (Pair pair = connect()) {
            send(pair.source(), "last");
            pair.source().shutdownOutput();
            assertEquals("last", receive(pair.destination(), 4));
            assertEquals(-1, pair.destination().read(ByteBuffer.allocate(16)));
        }
    }

    @Test
    void aSourceThatDiesEndsTheDestinationsStream() throws Exception {
        try (Pair pair = connect()) {
            send(pair.source(), "part");
            Forked<long[]> reader = fork("dest-reader", () -> drain(pair.destination()));
            pair.source().close();
            assertFalse(pair.source().isOpen());
            // end of stream or an error: either way the reader returns, it never hangs
            try {
                assertTrue(reader.get(30, TimeUnit.SECONDS)[0] <= 4);
            } catch (ExecutionException e) {
                assertInstanceOf(IOException.class, e.getCause());
            }
        }
    }

    @Test
    void writingToADeadDestinationFails() throws Exception {
        try (Pair pair = connect(); Arena arena = Arena.ofShared()) {
            MemorySegment ram = randomRam(arena, 1 << 20, 4);
            pair.destination().close();
            IOException e = assertThrows(IOException.class, () -> {
                pump(pair.source(), ram, Long.MAX_VALUE);
            });
            assertFalse(e instanceof ClosedChannelException, "the peer died, not our channel: " + e);
        }
    }

    @Test
    void aDeadAddressFailsInOneLineThatSaysWhere() throws Exception {
        IOException e = assertThrows(IOException.class, () -> {
            try (MigrationChannel c = transport().connectOutgoing(deadAddress()); Arena arena = Arena.ofShared()) {
                pump(c, randomRam(arena, 1 << 20, 5), 8L << 20);
                c.shutdownOutput();
            }
        });
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(scheme() + ":"), String.valueOf(e.getMessage()));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void closeFromAnotherThreadUnblocksARead() throws Exception {
        try (Pair pair = connect()) {
            Forked<long[]> reader = fork("blocked-reader", () -> drain(pair.destination()));
            awaitBlocked(reader);
            pair.destination().close();
            assertInstanceOf(ClosedChannelException.class, failure(reader));
            assertThrows(ClosedChannelException.class, () -> pair.destination().read(ByteBuffer.allocate(1)));
        }
    }

    @Test
    void closeFromAnotherThreadUnblocksAWrite() throws Exception {
        try (Pair pair = connect(); Arena arena = Arena.ofShared()) {
            MemorySegment ram = randomRam(arena, 1 << 20, 3);
            Forked<Long> writer = fork("blocked-writer", () -> pump(pair.source(), ram, Long.MAX_VALUE));
            awaitBlocked(writer);
            pair.source().close();
            assertInstanceOf(ClosedChannelException.class, failure(writer));
            assertThrows(ClosedChannelException.class, () -> send(pair.source(), "x"));
        }
    }

    @Test
    void closeFromAnotherThreadUnblocksAccept() throws Exception {
        assumeTrue(acceptWaitsForASource(), "accept does not wait for a source");
        IncomingListener listener = transport().listenIncoming(listenAddress());
        Forked<MigrationChannel> accept = fork("blocked-accept", listener::accept);
        awaitBlocked(accept);
        listener.close();
        assertInstanceOf(ClosedChannelException.class, failure(accept));
        assertThrows(ClosedChannelException.class, listener::accept);
        listener.close(); // twice is harmless
    }

    @Test
    void aClosedListenerAcceptsNothing() throws Exception {
        IncomingListener listener = transport().listenIncoming(listenAddress());
        listener.close();
        assertThrows(ClosedChannelException.class, listener::accept);
        listener.close(); // twice is harmless
    }

    // ---- two-way transports

    @Test
    void aTwoWayChannelCarriesBytesBack() throws Exception {
        assumeTrue(bidirectional(), "one-way transport");
        try (Pair pair = connect()) {
            send(pair.source(), "hello");
            assertEquals("hello", receive(pair.destination(), 5));
            send(pair.destination(), "ack");
            assertEquals("ack", receive(pair.source(), 3));
        }
    }

    @Test
    void oneReaderAndOneWriterPerEndRunAtOnce() throws Exception {
        assumeTrue(bidirectional(), "one-way transport");
        long bytes = 64L << 20;
        try (Pair pair = connect(); Arena arena = Arena.ofShared()) {
            MemorySegment forward = randomRam(arena, 1 << 20, 1);
            MemorySegment back = randomRam(arena, 1 << 20, 2);
            FutureTask<long[]> sourceReader = fork("source-rp", () -> drain(pair.source()));
            FutureTask<long[]> destinationReader = fork("dest-in", () -> drain(pair.destination()));
            FutureTask<Long> destinationWriter = fork("dest-rp", () -> {
                long crc = pump(pair.destination(), back, bytes);
                pair.destination().shutdownOutput();
                return crc;
            });
            long forwardCrc = pump(pair.source(), forward, bytes);
            pair.source().shutdownOutput();
            long backCrc = destinationWriter.get(60, TimeUnit.SECONDS);
            assertEquals(List.of(bytes, forwardCrc), asList(destinationReader.get(60, TimeUnit.SECONDS)));
            assertEquals(List.of(bytes, backCrc), asList(sourceReader.get(60, TimeUnit.SECONDS)));
        }
    }

    @Test
    void shutdownOutputLeavesTheReturnPathOpen() throws Exception {
        assumeTrue(bidirectional(), "one-way transport");
        try (Pair pair = connect()) {
            pair.source().shutdownOutput();
            assertEquals(-1, pair.destination().read(ByteBuffer.allocate(16)));
            send(pair.destination(), "rp-ack");
            assertEquals("rp-ack", receive(pair.source(), 6));
        }
    }

    // ---- one-way transports

    @Test
    void aOneWayChannelRefusesTheOtherDirection() throws Exception {
        assumeFalse(bidirectional(), "two-way transport");
        try (Pair pair = connect()) {
            IOException back = assertThrows(IOException.class, () -> send(pair.destination(), "ack"));
            assertTrue(back.getMessage().startsWith(scheme() + ":"), back.getMessage());
            assertThrows(IOException.class, () -> pair.source().read(ByteBuffer.allocate(1)));
            send(pair.source(), "still");
            assertEquals("still", receive(pair.destination(), 5));
        }
    }

    // ---- several channels

    @Test
    void severalSourcesConnectToOneListener() throws Exception {
        assumeTrue(capabilities().contains(TransportCapability.MULTI_CHANNEL), "one channel only");
        try (IncomingListener listener = transport().listenIncoming(listenAddress())) {
            MigrationChannel[] sources = new MigrationChannel[4];
            MigrationChannel[] destinations = new MigrationChannel[4];
            try {
                for (int i = 0; i < 4; i++) {
                    sources[i] = transport().connectOutgoing(connectAddress(listener));
                    send(sources[i], "ch" + i);
                }
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < 4; i++) {
                    destinations[i] = listener.accept();
                    seen.add(receive(destinations[i], 3));
                }
                assertEquals(Set.of("ch0", "ch1", "ch2", "ch3"), seen);
            } finally {
                for (int i = 0; i < 4; i++) {
                    closeAll(null, sources[i], destinations[i]);
                }
            }
        }
    }

    // ---- resources

    @Test
    void leavesNoDescriptorsOrThreadsBehind() throws Exception {
        exerciseEverything(); // loads classes, warms caches
        int fds = openDescriptors();
        Set<Thread> threads = Thread.getAllStackTraces().keySet();
        for (int i = 0; i < 5; i++) {
            exerciseEverything();
        }
        assertEquals(fds, openDescriptors(), "file descriptors before and after");
        Set<Thread> now = new HashSet<>(Thread.getAllStackTraces().keySet());
        now.removeAll(threads);
        now.removeIf(t -> t.getName().startsWith("ForkJoinPool") || t.getName().startsWith("process reaper")
                || !t.isAlive());
        assertEquals(Set.of(), now, "new threads");
    }

    private void exerciseEverything() throws Exception {
        try (Pair pair = connect()) {
            send(pair.source(), "x");
            assertEquals("x", receive(pair.destination(), 1));
            pair.source().shutdownOutput();
            assertEquals(-1, pair.destination().read(ByteBuffer.allocate(1)));
        }
        try (Pair pair = connect()) {
            send(pair.source(), "y"); // and an abrupt end
        }
        assertThrows(IOException.class, () -> {
            try (MigrationChannel c = transport().connectOutgoing(deadAddress()); Arena arena = Arena.ofShared()) {
                pump(c, randomRam(arena, 1 << 20, 6), 8L << 20);
                c.shutdownOutput();
            }
        });
        IncomingListener listener = transport().listenIncoming(listenAddress());
        if (acceptWaitsForASource()) {
            Forked<MigrationChannel> accept = fork("accept", listener::accept);
            awaitBlocked(accept);
            listener.close();
            assertInstanceOf(ClosedChannelException.class, failure(accept));
        } else {
            // the stream is there at once: a source connects and gives up, the listener is cancelled
            transport().connectOutgoing(connectAddress(listener)).close();
            listener.close();
        }
    }

    // ---- helpers

    protected static int openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }

    /** A task on its own named platform thread. */
    protected static final class Forked<T> extends FutureTask<T> {
        private final Thread thread;

        private Forked(String name, Callable<T> task) {
            super(task);
            thread = Thread.ofPlatform().name("test-" + name).daemon().unstarted(this);
        }

        /** The thread running the task, for a test that waits for it to block. */
        public Thread thread() {
            return thread;
        }
    }

    protected static <T> Forked<T> fork(String name, Callable<T> task) {
        Forked<T> forked = new Forked<>(name, task);
        forked.thread.start();
        return forked;
    }

    /**
     * Whether a stack shows a thread inside a system call that blocks: by default, the top frame is a
     * native I/O method of the JDK (a socket, pipe or file read, write, accept or poll), where a
     * platform thread sits in the kernel. A thread that merely waits (a lock, a sleep, the channel's
     * bookkeeping) does not count: a close that lands there would prove nothing. A transport whose
     * blocking calls look different (an FFM downcall, its own wait) overrides this with its own frame,
     * as the fd transport's tests do.
     */
    protected boolean inBlockingCall(Thread thread, StackTraceElement[] stack) {
        if (stack.length == 0 || thread.getState() != Thread.State.RUNNABLE || !stack[0].isNativeMethod()) {
            return false;
        }
        String top = stack[0].getClassName();
        return top.startsWith("sun.nio.ch.") || top.startsWith("java.io.") || top.startsWith("java.net.")
                || top.startsWith("sun.nio.fs.");
    }

    /**
     * Waits until the task's thread sits in a blocking call ({@link #inBlockingCall}), so that a close
     * must wake it; the state is read twice, a little apart, so that a thread passing through a native
     * frame on its way does not count.
     */
    protected void awaitBlocked(Forked<?> task) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(blocked(task) && pause() && blocked(task))) {
            assertFalse(task.isDone(), "finished instead of blocking");
            assertTrue(System.nanoTime() < deadline, "never reached a blocking call");
            Thread.sleep(5);
        }
        assertFalse(task.isDone(), "should still be blocked");
    }

    private boolean blocked(Forked<?> task) {
        return inBlockingCall(task.thread, task.thread.getStackTrace());
    }

    private static boolean pause() throws InterruptedException {
        Thread.sleep(20);
        return true;
    }

    protected static Throwable failure(FutureTask<?> task) throws Exception {
        try {
            Object value = task.get(30, TimeUnit.SECONDS);
            return fail("expected a failure, got " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    protected static MemorySegment randomRam(Arena arena, long size, long seed) {
        MemorySegment ram = arena.allocate(size, PAGE);
        SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < size; i += 8) {
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        return ram;
    }

    /** Writes {@code bytes} from {@code ram}, round and round, in gathering writes of 256 pages; returns the CRC. */
    protected static long pump(MigrationChannel channel, MemorySegment ram, long bytes) throws IOException {
        CRC32C crc = new CRC32C();
        int pages = (int) (ram.byteSize() / PAGE);
        ByteBuffer[] batch = new ByteBuffer[256];
        for (long done = 0, page = 0; done < bytes; ) {
            int n = (int) Math.min(batch.length, (bytes - done) / PAGE);
            for (int i = 0; i < n; i++, page++) {
                batch[i] = ram.asSlice((page % pages) * PAGE, PAGE).asByteBuffer();
                crc.update(batch[i].duplicate());
            }
            done += channel.write(batch, 0, n);
        }
        return crc.getValue();
    }

    /** Reads to the end of stream; returns {bytes, CRC}. */
    protected static long[] drain(MigrationChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        CRC32C crc = new CRC32C();
        long bytes = 0;
        for (int n; (n = channel.read(buffer.clear())) >= 0; ) {
            crc.update(buffer.flip());
            bytes += n;
        }
        return new long[] {bytes, crc.getValue()};
    }

    protected static void send(MigrationChannel channel, String text) throws IOException {
        channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    protected static String receive(MigrationChannel channel, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("end of stream after " + buffer.position() + " bytes");
            }
        }
        return new String(buffer.array(), StandardCharsets.UTF_8);
    }

    private static List<Long> asList(long[] values) {
        return List.of(values[0], values[1]);
    }

    private static void closeAll(Exception failure, AutoCloseable... closeables) throws IOException {
        for (AutoCloseable c : closeables) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (failure != null) {
                        failure.addSuppressed(e);
                    } else if (e instanceof IOException io) {
                        throw io;
                    }
                }
            }
        }
    }
}
