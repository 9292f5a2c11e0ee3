package io.godwit.transport.fd.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.util.Objects;

/**
 * An inherited descriptor as a {@link MigrationChannel}, driven by read(2), writev(2) and poll(2)
 * through FFM. The descriptor is put in non-blocking mode and every wait is a poll on it and on an
 * eventfd, so that {@link #close} from any thread wakes a blocked reader or writer: a plain blocking
 * read on a pipe would not wake when another thread closes the descriptor. The descriptor itself is
 * closed only once no call is using it, so its number is never reused under a running call.
 *
 * <p>Guest-memory buffers (direct) go to writev as they are, without a copy; heap buffers (frame
 * headers) are copied through a native scratch buffer.
 */
final class FdChannel implements MigrationChannel {

    private static final int SCRATCH = 1 << 20;
    private static final long IOV = 16; // struct iovec: base, length
    private static final long POLLFD = 8; // struct pollfd: fd, events, revents

    private final Inherited descriptor;
    private final int fd;
    private final int wake;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readState = Libc.state(arena);
    private final MemorySegment writeState = Libc.state(arena);
    private final MemorySegment readPoll = arena.allocate(2 * POLLFD, 8);
    private final MemorySegment writePoll = arena.allocate(2 * POLLFD, 8);
    private final MemorySegment iov = arena.allocate(Libc.IOV_MAX * IOV, 8);
    private final MemorySegment readScratch = arena.allocate(SCRATCH, 4096);
    private final MemorySegment writeScratch = arena.allocate(SCRATCH, 4096);
    private final Object lock = new Object();
    private int active;
    private volatile boolean closed;
    private boolean released;
    /** The descriptor's file status flags before we made it non-blocking, restored at the close. */
    private final int originalFlags;

    FdChannel(Inherited descriptor) throws IOException {
        this.descriptor = descriptor;
        this.fd = descriptor.fd();
        originalFlags = descriptor.makeNonBlocking();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment state = Libc.state(tmp);
            wake = Libc.eventfd(state, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
            if (wake < 0) {
                arena.close();
                throw Libc.failure(name(), "eventfd", Libc.errno(state));
            }
        }
    }

    @Override
    public String name() {
        return descriptor.uri();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        begin();
        try {
            if (!dst.hasRemaining()) {
                return 0;
            }
            boolean direct = dst.isDirect();
            MemorySegment target = direct ? MemorySegment.ofBuffer(dst)
                    : readScratch.asSlice(0, Math.min(dst.remaining(), SCRATCH));
            while (true) {
                long n = Libc.read(readState, fd, target, target.byteSize());
                if (n > 0) {
                    if (direct) {
                        dst.position(dst.position() + (int) n);
                    } else {
                        dst.put(target.asSlice(0, n).asByteBuffer());
                    }
                    return (int) n;
                }
                if (n == 0) {
                    return -1;
                }
                retryOrThrow(readState, readPoll, Libc.POLLIN, "read");
            }
        } finally {
            end();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    /** Writes every byte: writev of up to IOV_MAX buffers at a time, advancing past partial writes. */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        begin();
        try {
            int end = offset + length;
            long total = 0;
            while (true) {
                while (offset < end && !srcs[offset].hasRemaining()) {
                    offset++;
                }
                if (offset == end) {
                    return total;
                }
                int count = gather(srcs, offset, end);
                long n;
                while ((n = Libc.writev(writeState, fd, iov, count)) < 0) {
                    retryOrThrow(writeState, writePoll, Libc.POLLOUT, "write");
                }
                total += n;
                advance(srcs, offset, end, n);
            }
        } finally {
            end();
        }
    }

    /** Fills the iovec array from the buffers with bytes left; heap bytes are copied to the scratch. */
    private int gather(ByteBuffer[] srcs, int from, int end) {
        int count = 0;
        long scratchUsed = 0;
        for (int i = from; i < end && count < Libc.IOV_MAX; i++) {
            ByteBuffer b = srcs[i];
            if (!b.hasRemaining()) {
                continue;
            }
            MemorySegment segment;
            if (b.isDirect()) {
                segment = MemorySegment.ofBuffer(b);
            } else {
                if (scratchUsed == SCRATCH) {
                    break;
                }
                long take = Math.min(b.remaining(), SCRATCH - scratchUsed);
                segment = writeScratch.asSlice(scratchUsed, take);
                MemorySegment.copy(MemorySegment.ofBuffer(b), 0, segment, 0, take);
                scratchUsed += take;
            }
            iov.set(ADDRESS, count * IOV, segment);
            iov.set(JAVA_LONG, count * IOV + 8, segment.byteSize());
            count++;
        }
        return count;
    }

    private static void advance(ByteBuffer[] srcs, int from, int end, long written) {
        for (int i = from; i < end && written > 0; i++) {
            int step = (int) Math.min(srcs[i].remaining(), written);
            srcs[i].position(srcs[i].position() + step);
            written -= step;
        }
    }

    /** After a failed call: waits on EAGAIN, retries on EINTR, and otherwise throws. */
    private void retryOrThrow(MemorySegment state, MemorySegment pollFds, short events, String call) throws IOException {
        int errno = Libc.errno(state);
        if (closed) {
            throw new AsynchronousCloseException();
        }
        if (errno == Libc.EAGAIN) {
            await(state, pollFds, events);
        } else if (errno != Libc.EINTR) {
            throw Libc.failure(name(), call, errno);
        }
    }

    /** Polls the descriptor and the wake-up eventfd; a close from another thread ends the wait. */
    private void await(MemorySegment state, MemorySegment pollFds, short events) throws IOException {
        pollFds.set(JAVA_INT, 0, fd);
        pollFds.set(JAVA_SHORT, 4, events);
        pollFds.set(JAVA_SHORT, 6, (short) 0);
        pollFds.set(JAVA_INT, POLLFD, wake);
        pollFds.set(JAVA_SHORT, POLLFD + 4, Libc.POLLIN);
        pollFds.set(JAVA_SHORT, POLLFD + 6, (short) 0);
        if (Libc.poll(state, pollFds, 2, -1) < 0 && Libc.errno(state) != Libc.EINTR) {
            throw Libc.failure(name(), "poll", Libc.errno(state));
        }
        if (closed) {
            throw new AsynchronousCloseException();
        }
    }

    /**
     * A socket shuts down its sending side (the return path stays open); a pipe or a file has no
     * other direction, so the descriptor is closed: only then does the reader see end of stream.
     */
    @Override
    public void shutdownOutput() throws IOException {
        if (descriptor.kind() != Inherited.Kind.SOCKET) {
            close();
            return;
        }
        begin();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment state = Libc.state(tmp);
            if (Libc.shutdown(state, fd, Libc.SHUT_WR) < 0) {
                throw Libc.failure(name(), "shutdown", Libc.errno(state));
            }
        } finally {
            end();
        }
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    private void begin() throws ClosedChannelException {
        synchronized (lock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            active++;
        }
    }

    private void end() {
        synchronized (lock) {
            active--;
            if (closed && active == 0) {
                release();
            }
        }
    }

    /** Wakes any blocked call; the descriptor closes when the last call has left. Idempotent. */
    @Override
    public void close() {
        // All under the lock: a call finishing in between would otherwise release (close) the
        // eventfd before this write, and its number could already belong to another file. The
        // eventfd is non-blocking, so the write never waits.
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment one = tmp.allocate(JAVA_LONG);
                one.set(JAVA_LONG, 0, 1L);
                Libc.write(Libc.state(tmp), wake, one, 8);
            }
            if (active == 0) {
                release();
            }
        }
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment state = Libc.state(tmp);
            descriptor.restoreFlags(state, originalFlags); // the parent may share the open file description
            Libc.close(state, fd);
            Libc.close(state, wake);
        }
        arena.close();
    }

    @Override
    public String toString() {
        return name();
    }
}
