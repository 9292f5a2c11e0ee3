package io.godwit.transport.file.internal;

import io.godwit.api.transport.SeekableChannel;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A migration's channel on a file: the stream at the channel's position, pages at fixed offsets
 * (pwrite, pread). Offsets are the migration's: the address's {@code offset=N} is added here.
 */
final class MigrationFile implements SeekableChannel {

    private final FileChannel file;
    private final FileAddress address;

    MigrationFile(FileChannel file, FileAddress address) throws IOException {
        this.file = file;
        this.address = address;
        file.position(address.offset());
    }

    @Override
    public String name() {
        return address.toString();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        while (src.hasRemaining()) {
            file.write(src);
        }
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
            n += srcs[i].remaining();
        }
        long left = n;
        while (left > 0) {
            left -= file.write(srcs, offset, length);
        }
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public void writeAt(ByteBuffer src, long offset) throws IOException {
        long at = address.offset() + offset;
        while (src.hasRemaining()) {
            at += file.write(src, at);
        }
    }

    @Override
    public void readAt(ByteBuffer dst, long offset) throws IOException {
        long at = address.offset() + offset;
        while (dst.hasRemaining()) {
            int r = file.read(dst, at);
            if (r < 0) {
                throw new EOFException(name() + " ends at byte " + (file.size() - address.offset())
                        + ", before " + (at - address.offset() + dst.remaining()));
            }
            at += r;
        }
    }

    @Override
    public long position() throws IOException {
        return file.position() - address.offset();
    }

    @Override
    public void position(long offset) throws IOException {
        file.position(address.offset() + offset);
    }

    @Override
    public long size() throws IOException {
        return Math.max(0, file.size() - address.offset());
    }

    /** The orderly end of a saved stream: on disk before the migration says completed. */
    @Override
    public void shutdownOutput() throws IOException {
        file.force(true);
    }

    @Override
    public boolean isOpen() {
        return file.isOpen();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
