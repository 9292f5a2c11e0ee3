package io.godwit.transport.exec.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/** The source's end: the stream goes to the command's stdin. */
final class StdinChannel extends ExecChannel {

    private final OutputStream stdin;
    private int filled;

    StdinChannel(ShellCommand command) {
        super(command);
        this.stdin = command.stdin();
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        write(new ByteBuffer[] {src}, 0, 1);
        return n;
    }

    /** Packs the buffers into the chunk and writes it whenever it is full, then what is left. */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ensureOpen();
        long written = 0;
        try {
            for (int i = offset; i < offset + length; i++) {
                ByteBuffer src = srcs[i];
                while (src.hasRemaining()) {
                    int n = Math.min(src.remaining(), CHUNK - filled);
                    src.get(chunk, filled, n);
                    filled += n;
                    written += n;
                    if (filled == CHUNK) {
                        drain();
                    }
                }
            }
            drain();
            stdin.flush(); // the JDK's pipe stream buffers writes under 8 KiB
        } catch (IOException e) {
            filled = 0;
            throw failure(e);
        }
        return written;
    }

    private void drain() throws IOException {
        if (filled > 0) {
            stdin.write(chunk, 0, filled);
            filled = 0;
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        throw oneWay("read (the source has no return path over exec)");
    }

    /**
     * Closes stdin and waits for the command to exit: only a command that took the whole stream and
     * exited 0 ends the stream well; otherwise its exit status and stderr say why.
     */
    @Override
    public void shutdownOutput() throws IOException {
        ensureOpen();
        try {
            stdin.close();
        } catch (IOException e) {
            throw failure(e);
        }
        command.awaitSuccess();
    }
}
