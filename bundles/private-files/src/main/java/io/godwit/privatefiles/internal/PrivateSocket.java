package io.godwit.privatefiles.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * A listening unix socket that no other user can ever connect to, whatever the umask. Connecting
 * needs write permission on the socket file, and bind(2) gives the file the umask's mode, so the
 * socket is bound inside a fresh owner-only folder (0700) beside its path, given mode 0600 there,
 * and only then hard-linked to its path (link(2), which also refuses a path that is taken), and
 * the folder removed. Inside the folder nobody else can reach the file; at its path it is 0600
 * already: there is no window. (Binding at the path and chmod'ing right after would leave the
 * umask's mode for a moment, and a connection made in that moment waits in the backlog to be
 * accepted later.)
 */
public final class PrivateSocket {

    /** The longest unix socket path: sun_path's 108 bytes less the terminating NUL. */
    static final int MAX_PATH = 107;
    private static final String TEMP_PREFIX = ".gw";
    private static final String TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final int TEMP_RANDOM = 6;
    private static final String TEMP_SOCKET = "s";
    private static final int ATTEMPTS = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    private PrivateSocket() {}

    /**
     * A server socket listening at {@code path} with mode 0600.
     *
     * @throws BindException when the path is taken (by the time of the link); the caller removes a
     *     stale socket file first if it wants to
     * @throws IOException with a one-line reason when the folder is missing or not writable, or
     *     the path is too long
     */
    public static ServerSocketChannel bind(Path path) throws IOException {
        Path socket = path.toAbsolutePath();
        Path parent = socket.getParent();
        checkLength(socket, parent);
        Path folder = tempFolder(parent);
        Path temp = folder.resolve(TEMP_SOCKET);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(temp));
            Files.setPosixFilePermissions(temp, PrivateFiles.OWNER_RW);
            Files.createLink(socket, temp);
            return server;
        } catch (FileAlreadyExistsException taken) {
            close(server, taken);
            throw new BindException("Address already in use");
        } catch (IOException | RuntimeException e) {
            close(server, e);
            throw e;
        } finally {
            removeQuietly(temp);
            removeQuietly(folder);
        }
    }

    /**
     * Deletes a socket file left at {@code path} by a process that died, so that {@link #bind} can take
     * the path; one that still answers belongs to a live process and is left alone (taking it over would
     * cut that process off from its clients).
     *
     * @return true when a stale socket was deleted
     * @throws IOException when the path is a file or folder, or a live process listens there
     */
    public static boolean removeStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (Files.isRegularFile(path) || Files.isDirectory(path)) {
            throw new IOException("cannot listen on " + path + ": it exists and is not a socket");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException("cannot listen on " + path + ": another process is listening there");
        } catch (ConnectException stale) {
            return Files.deleteIfExists(path);
        }
    }

    private static void close(ServerSocketChannel server, Exception failure) {
        try {
            server.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    /** A leftover empty private folder is harmless; it must not hide the bind's own outcome. */
    private static void removeQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // nothing else to do
        }
    }

    private static void checkLength(Path socket, Path parent) throws IOException {
        int length = bytes(socket);
        int temp = bytes(parent) + 1 + TEMP_PREFIX.length() + TEMP_RANDOM + 1 + TEMP_SOCKET.length();
        if (length > MAX_PATH) {
            throw new IOException("path too long for a unix socket: " + length + " bytes, at most " + MAX_PATH);
        }
        if (temp > MAX_PATH) {
            throw new IOException("path too long: the socket is bound first in a private folder beside it (" + temp
                    + " bytes, at most " + MAX_PATH + ") so that it is never open to others; use a shorter folder");
        }
    }

    private static int bytes(Path p) {
        return p.toString().getBytes(Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"))).length;
    }

    /** A new owner-only folder in {@code parent}, named at random; the reason as bind(2) gives it when it cannot be made. */
    private static Path tempFolder(Path parent) throws IOException {
        for (int i = 0; ; i++) {
            StringBuilder name = new StringBuilder(TEMP_PREFIX);
            for (int c = 0; c < TEMP_RANDOM; c++) {
                name.append(TEMP_CHARS.charAt(RANDOM.nextInt(TEMP_CHARS.length())));
            }
            try {
                return Files.createDirectory(parent.resolve(name.toString()), PrivateFiles.FOLDER_MODE);
            } catch (FileAlreadyExistsException taken) {
                if (i == ATTEMPTS) {
                    throw taken;
                }
            } catch (AccessDeniedException e) {
                throw new IOException("Permission denied", e);
            } catch (NoSuchFileException e) {
                throw new IOException("No such file or directory", e);
            }
        }
    }
}
