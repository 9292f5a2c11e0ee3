package io.godwit.launcher;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The monitor protocol's wire format, shared by the client and the tests that stand in for the
 * server (the server itself lives in the shell bundle, which cannot see the launcher's classes).
 *
 * <p>One request per connection. The client sends the script as UTF-8 text ending in a single
 * {@code '\n'}; newlines inside the script become {@code ';'}, which Gogo treats alike. The server
 * answers with frames: 1 byte kind, a 4-byte big-endian payload length, the payload.
 * <ul>
 *   <li>{@code 'O'}: bytes for stdout, {@code 'E'}: bytes for stderr, streamed while the command runs;</li>
 *   <li>{@code 'X'}: the exit status as a 4-byte big-endian int (0 success, 1 a command failed),
 *       always last; the server closes the connection after it.</li>
 * </ul>
 */
public final class MonitorFrames {

    public static final byte OUT = 'O';
    public static final byte ERR = 'E';
    public static final byte EXIT = 'X';

    /**
     * Output arrives in small pieces; anything larger is a broken or foreign peer, and refusing it
     * keeps a wrong socket from making the client allocate gigabytes.
     */
    public static final int MAX_PAYLOAD = 16 << 20;

    /** One frame as read from the socket. */
    public record Frame(byte kind, byte[] payload) {

        /** The status carried by an {@code 'X'} frame. */
        public int exitStatus() throws IOException {
            if (kind != EXIT || payload.length != 4) {
                throw new IOException("malformed exit frame (" + payload.length + " bytes)");
            }
            return ByteBuffer.wrap(payload).getInt();
        }
    }

    private MonitorFrames() {
    }

    /** The request line for a script: one line of UTF-8, inner newlines turned into ';'. */
    public static byte[] request(String script) {
        String oneLine = script.replace("\r\n", ";").replace('\n', ';').replace('\r', ';');
        return (oneLine + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads the next frame.
     *
     * @return the frame, or null if the peer closed the connection cleanly between two frames
     * @throws IOException on a truncated frame, an unknown kind or an oversized payload
     */
    public static Frame read(InputStream in) throws IOException {
        int kind = in.read();
        if (kind < 0) {
            return null;
        }
        if (kind != OUT && kind != ERR && kind != EXIT) {
            throw new IOException("unknown frame kind 0x" + Integer.toHexString(kind)
                    + " (is this a godwit monitor socket?)");
        }
        DataInputStream data = new DataInputStream(in);
        try {
            int length = data.readInt();
            if (length < 0 || length > MAX_PAYLOAD) {
                throw new IOException("frame of " + Integer.toUnsignedString(length) + " bytes is too large");
            }
            byte[] payload = new byte[length];
            data.readFully(payload);
            return new Frame((byte) kind, payload);
        } catch (EOFException e) {
            throw new IOException("the connection closed in the middle of a frame", e);
        }
    }

    /** Writes one frame (used by test servers; the shell bundle has its own copy of these 10 lines). */
    public static void write(OutputStream out, byte kind, byte[] payload) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeByte(kind);
        data.writeInt(payload.length);
        data.write(payload);
        data.flush();
    }

    /** Writes the final {@code 'X'} frame. */
    public static void writeExit(OutputStream out, int status) throws IOException {
        write(out, EXIT, ByteBuffer.allocate(4).putInt(status).array());
    }
}
