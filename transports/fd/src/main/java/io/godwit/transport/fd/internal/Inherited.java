package io.godwit.transport.fd.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A descriptor number this process inherited, checked before use: open, and open in the direction
 * the migration needs. (Whether this process opened it itself cannot be told: the JDK opens its own
 * files without close-on-exec, so the number is the operator's word, as in QEMU.)
 */
record Inherited(int fd, Kind kind) {

    enum Kind { SOCKET, PIPE, FILE }

    enum Direction { READ, WRITE }

    String uri() {
        return "fd:" + fd;
    }

    /** Checks descriptor {@code fd}; does not change or consume it. */
    static Inherited check(int fd, Direction needed) throws IOException {
        String uri = "fd:" + fd;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment state = Libc.state(tmp);
            int fdFlags = Libc.fcntl(state, fd, Libc.F_GETFD, 0);
            if (fdFlags < 0) {
                throw Libc.errno(state) == Libc.EBADF ? new IOException(uri + ": not an open descriptor")
                        : Libc.failure(uri, "fcntl", Libc.errno(state));
            }
            int mode = Libc.fcntl(state, fd, Libc.F_GETFL, 0) & Libc.O_ACCMODE;
            if (needed == Direction.WRITE && mode == Libc.O_RDONLY) {
                throw new IOException(uri + ": open for reading only; a source writes the stream");
            }
            if (needed == Direction.READ && mode == Libc.O_WRONLY) {
                throw new IOException(uri + ": open for writing only; a destination reads the stream");
            }
        }
        return new Inherited(fd, kind(fd));
    }

    /** What the number names now ({@code pipe:[1234]}, {@code socket:[5678]}, a path), or null when not open. */
    static String target(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** What the descriptor is, from its /proc/self/fd link ({@code socket:[...]}, {@code pipe:[...]}, a path). */
    static Kind kind(int fd) throws IOException {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        if (target.startsWith("socket:")) {
            return Kind.SOCKET;
        }
        return target.startsWith("pipe:") ? Kind.PIPE : Kind.FILE;
    }

    /**
     * Non-blocking from now on, so that every wait is a poll a close can wake. O_NONBLOCK belongs to the
     * open file description, which the parent process (or anyone holding a copy of the descriptor)
     * shares: it sees the flag too until {@link #restoreFlags} puts the returned flags back.
     *
     * @return the file status flags before
     */
    int makeNonBlocking() throws IOException {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment state = Libc.state(tmp);
            int flags = Libc.fcntl(state, fd, Libc.F_GETFL, 0);
            if (flags < 0 || Libc.fcntl(state, fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0) {
                throw Libc.failure(uri(), "fcntl", Libc.errno(state));
            }
            return flags;
        }
    }

    /** Puts the file status flags {@link #makeNonBlocking} returned back, just before the close. */
    void restoreFlags(MemorySegment state, int flags) {
        Libc.fcntl(state, fd, Libc.F_SETFL, flags); // best effort: the descriptor closes next either way
    }

    /** Closes the descriptor without having used it (a listener closed before accept). */
    void closeUnused() {
        try (Arena tmp = Arena.ofConfined()) {
            Libc.close(Libc.state(tmp), fd);
        }
    }
}
