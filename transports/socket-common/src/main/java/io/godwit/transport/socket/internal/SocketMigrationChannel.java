package io.godwit.transport.socket.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A connected, blocking {@link SocketChannel} as a {@link MigrationChannel}. Writes return only when
 * every byte is written: a gathering write of a header and 256 page slices is one call for the caller,
 * however many {@code writev} calls the kernel needs (partial writes, more buffers than IOV_MAX).
 *
 * <p>Reads and writes go straight to the socket channel, which allows one reader and one writer at a
 * time and whose {@link #close} unblocks both from any thread.
 */
public final class SocketMigrationChannel implements MigrationChannel {

    private final SocketChannel channel;
    private final String name;

    public SocketMigrationChannel(SocketChannel channel, String name) {
        this.channel = Objects.requireNonNull(channel);
        this.name = Objects.requireNonNull(name);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int written = 0;
        while (src.hasRemaining()) {
            written += channel.write(src);
        }
        return written;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        int end = offset + length;
        long written = 0;
        while (true) {
            while (offset < end && !srcs[offset].hasRemaining()) {
                offset++;
            }
            if (offset == end) {
                return written;
            }
            written += channel.write(srcs, offset, end - offset);
        }
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
