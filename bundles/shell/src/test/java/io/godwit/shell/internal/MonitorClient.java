package io.godwit.shell.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The monitor protocol's client side, written from the protocol description, for tests. */
final class MonitorClient {

    /** What came back: stdout and stderr text, the exit status, and the frame kinds in order. */
    record Answer(String out, String err, int exit, List<Character> kinds) {}

    private MonitorClient() {}

    /**
     * {@code MonitorClient SOCKET SCRIPT}: asks once and prints the answer's stderr, then
     * {@code exit N}, or the failure; for tests that run a client as another user.
     */
    public static void main(String[] args) {
        try {
            Answer a = ask(Path.of(args[0]), args[1]);
            System.out.print(a.err());
            System.out.println("exit " + a.exit());
        } catch (IOException e) {
            System.out.println("failed: " + e);
        }
    }

    static Answer ask(Path socket, String script) throws IOException {
        return ask(socket, (script + "\n").getBytes(StandardCharsets.UTF_8), frame -> {});
    }

    /** Sends raw request bytes; {@code onOut} sees each stdout payload as it arrives. */
    static Answer ask(Path socket, byte[] request, Consumer<String> onOut) throws IOException {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer req = ByteBuffer.wrap(request);
            while (req.hasRemaining()) {
                channel.write(req);
            }
            if (request.length == 0 || request[request.length - 1] != '\n') {
                channel.shutdownOutput(); // the end of input then ends the script
            }
            DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            List<Character> kinds = new ArrayList<>();
            while (true) {
                char kind = (char) in.readByte();
                byte[] payload = in.readNBytes(in.readInt());
                kinds.add(kind);
                switch (kind) {
                    case 'O' -> {
                        out.write(payload);
                        onOut.accept(new String(payload, StandardCharsets.UTF_8));
                    }
                    case 'E' -> err.write(payload);
                    case 'X' -> {
                        if (in.read() != -1) {
                            throw new IOException("bytes after the exit frame");
                        }
                        return new Answer(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                                ByteBuffer.wrap(payload).getInt(), kinds);
                    }
                    default -> throw new IOException("unknown frame kind " + kind);
                }
            }
        }
    }
}
