package io.godwit.transport.unix.internal;

import static java.net.StandardProtocolFamily.UNIX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UnixTransportTest extends TransportContract {

    @TempDir
    Path dir;

    private final AtomicInteger sockets = new AtomicInteger();
    private final UnixTransport unix = new UnixTransport(UnixTransport.DEFAULT_BUFFER);

    @Override
    protected Transport transport() {
        return unix;
    }

    @Override
    protected String scheme() {
        return "unix";
    }

    @Override
    protected String listenAddress() {
        return dir.resolve("s" + sockets.incrementAndGet() + ".sock").toString();
    }

    @Override
    protected String deadAddress() {
        return dir.resolve("nobody.sock").toString();
    }

    @Test
    void namesAreTheSocketPath() throws IOException {
        Path path = dir.resolve("named.sock");
        try (IncomingListener listener = unix.listenIncoming(path.toString());
                MigrationChannel source = unix.connectOutgoing(path.toString());
                MigrationChannel destination = listener.accept()) {
            assertEquals("unix:" + path, listener.uri());
            assertEquals("unix:" + path, source.name());
            assertEquals("unix:" + path, destination.name());
        }
    }

    @Test
    void aMissingSocketFileSaysSo() {
        String path = deadAddress();
        IOException e = assertThrows(IOException.class, () -> unix.connectOutgoing(path));
        assertEquals("unix:" + path + ": no such file or directory", e.getMessage());
    }

    @Test
    void aSocketFileWithNoListenerIsRefused() throws IOException {
        Path path = staleSocket("stale.sock");
        IOException e = assertThrows(IOException.class, () -> unix.connectOutgoing(path.toString()));
        assertEquals("unix:" + path + ": connection refused", e.getMessage());
    }

    @Test
    void aStaleSocketFileIsReplaced() throws IOException {
        Path path = staleSocket("stale.sock");
        try (IncomingListener listener = unix.listenIncoming(path.toString());
                MigrationChannel source = unix.connectOutgoing(path.toString());
                MigrationChannel destination = listener.accept()) {
            send(source, "fresh");
            assertEquals("fresh", receive(destination, 5));
        }
        assertFalse(Files.exists(path));
    }

    @Test
    void aRegularFileIsNeverDeleted() throws IOException {
        Path path = Files.writeString(dir.resolve("precious.sock"), "keep me");
        IOException e = assertThrows(IOException.class, () -> unix.listenIncoming(path.toString()));
        assertEquals("unix:" + path + ": exists and is not a socket; not removing it", e.getMessage());
        assertEquals("keep me", Files.readString(path));
    }

    @Test
    void aDirectoryIsNeverDeleted() throws IOException {
        Path path = Files.createDirectory(dir.resolve("d.sock"));
        assertThrows(IOException.class, () -> unix.listenIncoming(path.toString()));
        assertTrue(Files.isDirectory(path));
    }

    @Test
    void closeDeletesTheSocketFile() throws IOException {
        Path path = dir.resolve("gone.sock");
        IncomingListener listener = unix.listenIncoming(path.toString());
        assertTrue(Files.exists(path));
        listener.close();
        assertFalse(Files.exists(path));
    }

    @Test
    void closeLeavesANewerListenersSocketAlone() throws IOException {
        Path path = dir.resolve("shared.sock");
        IncomingListener old = unix.listenIncoming(path.toString());
        try (IncomingListener newer = unix.listenIncoming(path.toString())) { // replaces the file
            old.close();
            assertTrue(Files.exists(path));
            try (MigrationChannel source = unix.connectOutgoing(path.toString());
                    MigrationChannel destination = newer.accept()) {
                send(source, "new");
                assertEquals("new", receive(destination, 3));
            }
        }
        assertFalse(Files.exists(path));
    }

    /** Whoever can connect feeds the destination a stream: the socket is owner-only whatever the umask. */
    @Test
    void theListeningSocketIsOwnerOnlyWithNothingLeftBeside() throws IOException {
        Path path = dir.resolve("private.sock");
        try (IncomingListener listener = unix.listenIncoming(path.toString())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(path), files.toList(), "what the bind left in the socket's folder");
            }
        }
    }

    @Test
    void aRelativePathIsReportedAbsolute() throws IOException {
        Path relative = Path.of("").toAbsolutePath().relativize(dir.resolve("rel.sock"));
        try (IncomingListener listener = unix.listenIncoming(relative.toString())) {
            assertEquals("unix:" + dir.resolve("rel.sock"), listener.uri());
        }
    }

    @Test
    void aPathTooLongForSunPathIsReported() {
        String path = dir.resolve("x".repeat(120)).toString();
        IOException e = assertThrows(IOException.class, () -> unix.listenIncoming(path));
        assertTrue(e.getMessage().startsWith("unix:" + path + ": "), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "a\0b"})
    void badAddressesAreRefusedOnBothSides(String address) {
        assertThrows(IllegalArgumentException.class, () -> unix.connectOutgoing(address));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> unix.listenIncoming(address));
        assertTrue(e.getMessage().startsWith("unix address "), e.getMessage());
        assertFalse(e.getMessage().contains("\0"), e.getMessage());
    }

    /** A socket file whose listener is gone, as a crashed destination leaves it. */
    private Path staleSocket(String name) throws IOException {
        Path path = dir.resolve(name);
        try (ServerSocketChannel gone = ServerSocketChannel.open(UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(path));
        }
        assertTrue(Files.exists(path));
        return path;
    }
}
