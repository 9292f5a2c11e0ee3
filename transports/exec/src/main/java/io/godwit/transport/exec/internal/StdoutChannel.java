package io.godwit.transport.exec.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** The destination's end: the stream comes from the command's stdout. */
final class StdoutChannel extends ExecChannel {

    private final InputStream stdout;
    private boolean ended;

    StdoutChannel(ShellCommand command) {
        super(command);
        this.stdout = command.stdout();
    }

    /** At the end of stdout the command must exit 0; a failing command's message replaces end of stream. */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (ended) {
            return -1;
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        int n;
        try {
            if (dst.hasArray()) {
                n = stdout.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
            } else {
                n = stdout.read(chunk, 0, Math.min(CHUNK, dst.remaining()));
                if (n > 0) {
                    dst.put(chunk, 0, n);
                }
            }
        } catch (IOException e) {
            throw failure(e);
        }
        if (n < 0) {
            ensureOpen();
            command.awaitSuccess();
            ended = true;
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        throw oneWay("write (the destination has no return path over exec)");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        throw oneWay("write (the destination has no return path over exec)");
    }

    /** Nothing goes out of a destination's exec channel. */
    @Override
    public void shutdownOutput() {}
}
