package io.godwit.launcher;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The host side's checks around the monitor socket file. The shell bundle binds and serves the
 * socket; the launcher only makes sure the path is free before the host starts (so that two hosts
 * never fight over one address) and tells when the shell has bound it.
 */
final class MonitorSocket {

    private MonitorSocket() {
    }

    /**
     * Makes {@code address} free for this host: a socket file left by a dead host is removed, one
     * that a live host still serves is refused.
     *
     * @return null if the path is free now, else a one-line reason
     */
    static String claim(MonitorAddress address) {
        Path path = address.path();
        Path parent = path.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            return "cannot serve " + address + ": directory " + parent + " does not exist";
        }
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            return "cannot serve " + address + ": " + path + " exists and is not a socket";
        }
        // A live server accepts; the shell's monitor ignores a connection that sends no request.
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(address.socketAddress());
            return address + " is in use by another running host";
        } catch (IOException refused) {
            try {
                Files.deleteIfExists(path);
                return null;
            } catch (IOException e) {
                return "cannot remove the stale socket " + path + ": " + e.getMessage();
            }
        }
    }

    /** Waits until the shell has created the socket file. */
    static boolean awaitBound(MonitorAddress address, long deadlineNanos) throws InterruptedException {
        while (!Files.exists(address.path(), LinkOption.NOFOLLOW_LINKS)) {
            if (System.nanoTime() > deadlineNanos) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
