package org.example.godwit.shaped.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A blocking socket whose writes are paced to {@code rate} bytes per second (the writer waits until
 * its bytes are due; {@link #close} wakes it) and which breaks itself after {@code cut} bytes (a simulated link failure: the
 * peer sees a reset, the writer an IOException). Reads are untouched.
 */
final class ShapedChannel implements MigrationChannel {

    /** Bytes per pacing step: small enough to keep the rate smooth, large enough to stay cheap. */
    private static final int STEP = 64 << 10;

    private final SocketChannel socket;
    private final String name;
    private final long rate;
    private final long cut;
    private final long started = System.nanoTime();
    private long written;
    /** Pacing waits on it; {@link #close} wakes them, so a cancel never waits out a long pacing step. */
    private final Object pacing = new Object();
    private boolean closed;

    ShapedChannel(SocketChannel socket, String name, long rate, long cut) {
        this.socket = socket;
        this.name = name;
        this.rate = rate;
        this.cut = cut;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return socket.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer src = srcs[i];
            while (src.hasRemaining()) {
                int n = Math.min(src.remaining(), STEP);
                ByteBuffer step = src.slice(src.position(), n);
                pace(n);
                while (step.hasRemaining()) {
                    socket.write(step);
                }
                src.position(src.position() + n);
                written += n;
                total += n;
            }
        }
        return total;
    }

    /** Sleeps until sending {@code n} more bytes keeps the average at the rate; breaks the link at the cut. */
    private void pace(int n) throws IOException {
        if (cut > 0 && written + n > cut) {
            socket.setOption(java.net.StandardSocketOptions.SO_LINGER, 0); // close sends a reset
            socket.close();
            throw new IOException(name + ": link cut after " + written + " bytes (fault injection)");
        }
        if (rate <= 0) {
            return;
        }
        long due = started + (long) ((written + n) * 1e9 / rate);
        synchronized (pacing) {
            long wait;
            while (!closed && (wait = due - System.nanoTime()) > 0) {
                try {
                    pacing.wait(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(name + ": interrupted");
                }
            }
            if (closed) {
                throw new AsynchronousCloseException();
            }
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public void close() throws IOException {
        synchronized (pacing) {
            closed = true;
            pacing.notifyAll();
        }
        socket.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
