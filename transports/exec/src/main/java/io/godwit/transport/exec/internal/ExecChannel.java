package io.godwit.transport.exec.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;

/**
 * A one-way channel to or from a command's pipe. The pipes are JDK process streams: a direct buffer
 * (guest memory) is copied through a reusable array on its way, a copy that costs far less than the
 * pipe itself. {@link #close} from any thread kills the command tree, which breaks a blocked write
 * (EPIPE) or ends a blocked read (EOF); the blocked call then throws {@link AsynchronousCloseException}.
 */
abstract sealed class ExecChannel implements MigrationChannel permits StdinChannel, StdoutChannel {

    /** The copy buffer: as large as a RAM batch of 256 pages, so that one batch is one write(2). */
    static final int CHUNK = 1 << 20;

    final ShellCommand command;
    final byte[] chunk = new byte[CHUNK];
    private volatile boolean closed;

    ExecChannel(ShellCommand command) {
        this.command = command;
    }

    @Override
    public final String name() {
        return command.uri();
    }

    @Override
    public final boolean isOpen() {
        return !closed;
    }

    final void ensureOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    /** An I/O error from the pipe: a close from another thread, the command's failure, or the error itself. */
    final IOException failure(IOException e) {
        if (closed) {
            AsynchronousCloseException a = new AsynchronousCloseException();
            a.initCause(e);
            return a;
        }
        return command.explain(e);
    }

    final IOException oneWay(String what) {
        return new IOException(name() + ": an exec channel is one-way; it cannot " + what);
    }

    /** Kills the command if it still runs and frees its pipes; idempotent, from any thread. */
    @Override
    public final void close() {
        closed = true;
        command.release();
    }

    @Override
    public final long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public String toString() {
        return name();
    }
}
