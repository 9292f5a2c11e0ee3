package io.godwit.shell.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Writes the monitor's answer frames: 1 byte kind, 4-byte big-endian payload length, payload.
 * Kinds: {@code 'O'} stdout bytes, {@code 'E'} stderr bytes, {@code 'X'} exit status (a 4-byte
 * big-endian int, 0 success, 1 failure), always the last frame.
 *
 * <p>Frames from the command's stdout and stderr and from the session thread interleave whole:
 * each frame is one locked write.
 */
final class FrameWriter {

    static final byte OUT = 'O';
    static final byte ERR = 'E';
    static final byte EXIT = 'X';

    private final SocketChannel channel;

    FrameWriter(SocketChannel channel) {
        this.channel = channel;
    }

    synchronized void frame(byte kind, byte[] payload, int off, int len) throws IOException {
        ByteBuffer[] buffers = {
            ByteBuffer.allocate(5).put(kind).putInt(len).flip(), ByteBuffer.wrap(payload, off, len)
        };
        while (buffers[1].hasRemaining() || buffers[0].hasRemaining()) {
            channel.write(buffers);
        }
    }

    void exit(int status) throws IOException {
        byte[] payload = ByteBuffer.allocate(4).putInt(status).array();
        frame(EXIT, payload, 0, payload.length);
    }

    /**
     * A stream whose every write is sent at once as one frame of {@code kind}. Nothing is buffered
     * so output streams as it is produced (a progress bar redrawn for minutes, without newlines);
     * Gogo's print streams already hand over whole prints, not single bytes.
     */
    OutputStream stream(byte kind) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                frame(kind, new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len > 0) {
                    frame(kind, b, off, len);
                }
            }
        };
    }
}
