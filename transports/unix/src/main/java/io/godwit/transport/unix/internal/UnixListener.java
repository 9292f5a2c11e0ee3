package io.godwit.transport.unix.internal;

import io.godwit.privatefiles.internal.PrivateSocket;
import io.godwit.transport.socket.internal.SocketListener;
import io.godwit.transport.socket.internal.Sockets;
import java.io.IOException;
import java.net.BindException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * A listening unix socket, owner-only (0600) from the moment it appears at its path, so that no other
 * user can connect and feed the destination a stream ({@link PrivateSocket}). A socket file left
 * behind by an earlier listener is removed before binding (anything else at the path is refused); the
 * listener removes its own socket file on close.
 */
final class UnixListener extends SocketListener {

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Path path;
    private final Object fileKey;
    private final int bufferBytes;

    private UnixListener(ServerSocketChannel server, Path path, Object fileKey, int bufferBytes) {
        super(server, "unix:" + path);
        this.path = path;
        this.fileKey = fileKey;
        this.bufferBytes = bufferBytes;
    }

    static UnixListener bind(Path path, int bufferBytes) throws IOException {
        String uri = "unix:" + path;
        ServerSocketChannel server = null;
        try {
            removeStaleSocket(path);
            server = PrivateSocket.bind(path);
            return new UnixListener(server, path, fileKey(path), bufferBytes);
        } catch (IOException e) {
            if (server != null) {
                Sockets.closeAfterFailure(server, e);
            }
            throw Sockets.describe(uri, e);
        }
    }

    @Override
    protected void configure(SocketChannel channel) throws IOException {
        Sockets.setBuffers(channel, bufferBytes);
    }

    /** Deletes the socket file, unless another listener has since put its own socket there. */
    @Override
    protected void afterClose() throws IOException {
        try {
            if (Objects.equals(fileKey, fileKey(path))) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException gone) {
            // someone removed it already
        }
    }

    private static void removeStaleSocket(Path path) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException free) {
            return;
        }
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new BindException("exists and is not a socket; not removing it");
        }
        Files.deleteIfExists(path);
    }

    private static Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }
}
