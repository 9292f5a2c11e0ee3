package io.godwit.launcher;

import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * A monitor address, {@code unix:PATH}. Only unix stream sockets for now: they need no port
 * allocation, and the file system decides who may connect. The string form is what the shell
 * bundle reads from the framework property {@code godwit.monitor}, so it is passed on unchanged.
 *
 * @param uri  the address as the user wrote it, e.g. {@code unix:/tmp/src.sock}
 * @param path the socket file
 */
public record MonitorAddress(String uri, Path path) {

    private static final String UNIX = "unix:";
    /** sun_path holds 108 bytes on Linux, including the terminating NUL. */
    static final int MAX_PATH_BYTES = 107;

    /**
     * Parses {@code unix:PATH}; a relative PATH is taken from the current directory, made absolute
     * so that the host (whose working directory may differ) and its clients agree on the file.
     */
    public static MonitorAddress parse(String text, String option) throws Options.UsageException {
        if (!text.startsWith(UNIX) || text.length() == UNIX.length()) {
            throw new Options.UsageException(option + " wants unix:PATH, not '" + text + "'");
        }
        Path path = Path.of(text.substring(UNIX.length())).toAbsolutePath().normalize();
        int length = path.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (length > MAX_PATH_BYTES) {
            throw new Options.UsageException(option + ": the socket path " + path + " is " + length
                    + " bytes long; unix sockets allow " + MAX_PATH_BYTES + " (use a shorter one, e.g. under /tmp)");
        }
        return new MonitorAddress(UNIX + path, path);
    }

    /** The socket address to connect to. */
    public UnixDomainSocketAddress socketAddress() {
        return UnixDomainSocketAddress.of(path);
    }

    @Override
    public String toString() {
        return uri;
    }
}
