package io.godwit.privatefiles.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A unix socket that appears at its path owner-only, with nothing left beside it. */
class PrivateSocketTest {

    @TempDir
    Path dir;

    @Test
    void theSocketListensAtItsPathOwnerOnly() throws IOException {
        Path path = dir.resolve("s.sock");
        try (ServerSocketChannel server = PrivateSocket.bind(path);
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                SocketChannel accepted = server.accept()) {
            client.write(ByteBuffer.wrap(new byte[] {42}));
            ByteBuffer got = ByteBuffer.allocate(1);
            accepted.read(got);
            assertEquals(42, got.get(0));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
            assertEquals(List.of(path), list(dir));
        }
    }

    @Test
    void aTakenPathIsNotReplacedAndNothingIsLeftBeside() throws IOException {
        Path path = Files.writeString(dir.resolve("taken"), "keep me");
        BindException e = assertThrows(BindException.class, () -> PrivateSocket.bind(path));
        assertEquals("Address already in use", e.getMessage());
        assertEquals("keep me", Files.readString(path));
        assertEquals(List.of(path), list(dir));
    }

    @Test
    void aMissingFolderOrAPathTooLongSaysSo() {
        IOException missing = assertThrows(IOException.class, () -> PrivateSocket.bind(dir.resolve("no/s.sock")));
        assertEquals("No such file or directory", missing.getMessage());
        IOException tooLong = assertThrows(IOException.class, () -> PrivateSocket.bind(dir.resolve("x".repeat(120))));
        assertTrue(tooLong.getMessage().startsWith("path too long for a unix socket: "), tooLong.getMessage());
        // Fits at its path, but not at the private place where it is bound first.
        Path deep = Path.of("/" + "d".repeat(PrivateSocket.MAX_PATH - 8), "s.sock");
        IOException tooDeep = assertThrows(IOException.class, () -> PrivateSocket.bind(deep));
        assertTrue(tooDeep.getMessage().startsWith("path too long: the socket is bound first"), tooDeep.getMessage());
    }

    private static List<Path> list(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.toList();
        }
    }
}
