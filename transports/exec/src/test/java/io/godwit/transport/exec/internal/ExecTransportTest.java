package io.godwit.transport.exec.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kit over a FIFO: the destination runs {@code cat FIFO}, the source {@code cat > FIFO}; then the
 * file flows of the issue (gzip, cat to a file and back) and failing commands.
 */
class ExecTransportTest extends TransportContract {

    @TempDir
    Path dir;

    private final AtomicInteger fifos = new AtomicInteger();
    private final ExecTransport exec = new ExecTransport(30_000);

    @Override
    protected Transport transport() {
        return exec;
    }

    @Override
    protected String scheme() {
        return "exec";
    }

    @Override
    protected String listenAddress() throws IOException {
        Path fifo = dir.resolve("f" + fifos.incrementAndGet());
        mkfifo(fifo);
        return "cat " + fifo;
    }

    @Override
    protected String connectAddress(IncomingListener listener) {
        return "cat > " + address(listener).substring("cat ".length());
    }

    @Override
    protected String deadAddress() {
        return "exit 1";
    }

    @Override
    protected boolean acceptWaitsForASource() {
        return false;
    }

    /**
     * A FIFO opens only when both ends open it: one byte through it first, so that a test that kills
     * one end does not leave the other command waiting in open(2) forever (as it would in real use
     * too: exec cannot tell a late peer from a missing one).
     */
    @Override
    protected Pair connect() throws IOException {
        Pair pair = super.connect();
        send(pair.source(), "!");
        assertEquals("!", receive(pair.destination(), 1));
        return pair;
    }

    private static void mkfifo(Path fifo) throws IOException {
        try {
            Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
            assertEquals(0, p.waitFor());
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    @Test
    void gzipToAFileAndBack() throws Exception {
        roundTrip("gzip -c > " + dir.resolve("vm.gz"), "gzip -dc " + dir.resolve("vm.gz"));
    }

    @Test
    void catToAFileAndBack() throws Exception {
        roundTrip("cat > " + dir.resolve("vm.img"), "cat " + dir.resolve("vm.img"));
        assertEquals(64L << 20, Files.size(dir.resolve("vm.img")));
    }

    /** The file flow: the source writes and completes with no destination alive; later a destination reads. */
    private void roundTrip(String out, String in) throws Exception {
        long crc;
        try (Arena arena = Arena.ofShared(); MigrationChannel source = exec.connectOutgoing(out)) {
            crc = pump(source, randomRam(arena, 16L << 20, 7), 64L << 20);
            source.shutdownOutput(); // returns only when the command exited 0
        }
        try (IncomingListener listener = exec.listenIncoming(in); MigrationChannel destination = listener.accept()) {
            long[] got = drain(destination);
            assertEquals(List.of(64L << 20, crc), List.of(got[0], got[1]));
        }
    }

    @Test
    void aFileReadBackHasTheSameBytes() throws Exception {
        Path file = dir.resolve("same.img");
        long crc;
        try (Arena arena = Arena.ofShared(); MigrationChannel source = exec.connectOutgoing("cat > " + file)) {
            crc = pump(source, randomRam(arena, 4L << 20, 8), 32L << 20);
            source.shutdownOutput();
        }
        try (IncomingListener listener = exec.listenIncoming("cat " + file); MigrationChannel destination = listener.accept()) {
            long[] got = drain(destination);
            assertEquals(32L << 20, got[0]);
            assertEquals(crc, got[1]);
        }
    }

    @Test
    void aCommandThatCannotWriteFailsWithItsOwnWords() throws Exception {
        String out = "cat > " + dir.resolve("no/such/dir/vm.img");
        IOException e = assertThrows(IOException.class, () -> {
            try (Arena arena = Arena.ofShared(); MigrationChannel source = exec.connectOutgoing(out)) {
                pump(source, randomRam(arena, 1 << 20, 9), 16L << 20);
                source.shutdownOutput();
            }
        });
        assertTrue(e.getMessage().startsWith("exec:" + out + ": exit status "), e.getMessage());
        assertTrue(e.getMessage().contains("vm.img"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aCommandThatFailsAfterTakingTheStreamFailsItsEnd() throws Exception {
        try (MigrationChannel source = exec.connectOutgoing("cat > /dev/null; echo disk full >&2; exit 3")) {
            send(source, "all of it");
            IOException e = assertThrows(IOException.class, source::shutdownOutput);
            assertTrue(e.getMessage().endsWith(": exit status 3: disk full"), e.getMessage());
        }
    }

    /**
     * A chatty command: 3 GiB of stderr, more than one Java array holds (a sparse file: a hole, then
     * its last words), so only a reader of the tail can quote it. The failure quotes the end, and
     * building it allocates a bounded amount, whatever the command wrote.
     */
    @Test
    void aFailureQuotesTheTailOfAHugeStderrAndReadsOnlyThat() throws Exception {
        String command = "cat > /dev/null; echo first words >&2;"
                + " echo the real reason | dd of=/dev/fd/3 bs=1M seek=3072 conv=notrunc 3>&2 2>/dev/null; exit 3";
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (MigrationChannel source = exec.connectOutgoing(command)) {
            send(source, "all of it");
            long before = threads.getCurrentThreadAllocatedBytes();
            IOException e = assertThrows(IOException.class, source::shutdownOutput);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            String prefix = "exec:" + command + ": exit status 3: ...";
            assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
            String quoted = e.getMessage().substring(prefix.length());
            assertTrue(quoted.endsWith("the real reason"), quoted);
            assertTrue(quoted.length() <= 400 && !quoted.contains("first words"), quoted);
            assertTrue(allocated < 4 << 20, "building the message allocated " + allocated + " bytes");
        }
    }

    /** Stderr that is not UTF-8 is quoted with replacement characters, not dropped. */
    @Test
    void aFailureQuotesStderrThatIsNotUtf8() throws Exception {
        try (MigrationChannel source = exec.connectOutgoing("cat > /dev/null; printf 'bad \\377\\376 bytes\\n' >&2; exit 2")) {
            send(source, "all of it");
            IOException e = assertThrows(IOException.class, source::shutdownOutput);
            assertTrue(e.getMessage().endsWith(": exit status 2: bad \uFFFD\uFFFD bytes"), e.getMessage());
        }
    }

    @Test
    void aDestinationCommandThatFailsSaysWhy() throws Exception {
        String in = "gzip -dc " + dir.resolve("missing.gz");
        try (IncomingListener listener = exec.listenIncoming(in); MigrationChannel destination = listener.accept()) {
            IOException e = assertThrows(IOException.class, () -> drain(destination));
            assertTrue(e.getMessage().startsWith("exec:" + in + ": exit status 1: "), e.getMessage());
            assertTrue(e.getMessage().contains("missing.gz"), e.getMessage());
        }
    }

    @Test
    void aSecondAcceptIsRefused() throws Exception {
        try (IncomingListener listener = exec.listenIncoming("true"); MigrationChannel first = listener.accept()) {
            assertEquals(-1, first.read(ByteBuffer.allocate(1)));
            IOException e = assertThrows(IOException.class, listener::accept);
            assertTrue(e.getMessage().contains("accepts once"), e.getMessage());
        }
    }

    @Test
    void closeKillsTheCommandAndWhatItStarted() throws Exception {
        MigrationChannel source = exec.connectOutgoing("sleep 600 | sleep 600");
        Set<Long> before = sleepers();
        assertTrue(before.size() >= 2 || waitForSleepers(), "the sleeps never started");
        source.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!sleepers().isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "still running: " + sleepers());
            Thread.sleep(20);
        }
    }

    private static boolean waitForSleepers() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sleepers().size() < 2) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Our descendants that run {@code sleep 600}. */
    private static Set<Long> sleepers() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().map(c -> c.endsWith("sleep 600")).orElse(false))
                .map(ProcessHandle::pid).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void noCapabilities() {
        assertEquals(Set.of(), exec.capabilities());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "a\0b"})
    void aBadCommandIsRefusedOnBothSides(String command) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.connectOutgoing(command));
        assertTrue(e.getMessage().startsWith("exec "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> exec.listenIncoming(command));
    }
}
