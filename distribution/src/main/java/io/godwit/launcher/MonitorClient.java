package io.godwit.launcher;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * {@code --connect}: sends one script to a running host's monitor socket and relays the answer.
 * No framework is started, so a client costs a JVM start and nothing more. Output frames are
 * copied and flushed as they arrive because a migration reports its progress while it runs.
 */
public final class MonitorClient {

    /** A command on the host failed (the host's own status 1 is passed through as is). */
    public static final int FAILED = 1;
    /** The host could not be reached or broke the protocol. */
    public static final int UNREACHABLE = 2;

    private final PrintStream out;
    private final PrintStream err;
    private final Tty tty;

    /** A client whose output is no terminal (the host shows progress as plain lines). */
    public MonitorClient(PrintStream out, PrintStream err) {
        this(out, err, Tty.NONE);
    }

    /**
     * @param tty what the client's stdout is: on a terminal the script is sent after
     *     {@code GODWIT_TTY = true; COLUMNS = N; }, so that {@code migrate} draws its progress bar
     */
    MonitorClient(PrintStream out, PrintStream err, Tty tty) {
        this.out = out;
        this.err = err;
        this.tty = tty;
    }

    /**
     * Runs {@code script} on the host at {@code address}.
     *
     * @return the host's exit status, or {@link #UNREACHABLE} with a one-line error on {@code err}
     */
    public int run(MonitorAddress address, String script) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(address.socketAddress());
        } catch (IOException | UnsupportedOperationException e) {
            err.println("Error: cannot connect to " + address + ": " + reason(e));
            return UNREACHABLE;
        }
        try (channel) {
            OutputStream request = Channels.newOutputStream(channel);
            request.write(MonitorFrames.request(tty.scriptPrefix() + script));
            request.flush();
            return relay(new BufferedInputStream(Channels.newInputStream(channel)));
        } catch (IOException e) {
            out.flush();
            err.println("Error: lost the connection to " + address + ": " + reason(e));
            return UNREACHABLE;
        }
    }

    /** Copies frames until the exit frame; a connection that ends before it is an error. */
    int relay(InputStream in) throws IOException {
        while (true) {
            MonitorFrames.Frame frame = MonitorFrames.read(in);
            if (frame == null) {
                throw new IOException("the host closed the connection before the command finished");
            }
            switch (frame.kind()) {
                case MonitorFrames.OUT -> copy(frame.payload(), out);
                case MonitorFrames.ERR -> copy(frame.payload(), err);
                default -> {
                    out.flush();
                    err.flush();
                    return frame.exitStatus();
                }
            }
        }
    }

    private static void copy(byte[] bytes, PrintStream stream) {
        stream.write(bytes, 0, bytes.length);
        stream.flush();
    }

    /** The most telling one-line message of a failure: connect errors name the socket file's state. */
    private static String reason(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (root instanceof java.net.SocketException && message != null) {
            if (message.contains("No such file")) {
                return "no such socket (is the host running with --monitor?)";
            }
            if (message.contains("Connection refused")) {
                return "connection refused (the host that made this socket has gone)";
            }
        }
        return message != null ? message : root.getClass().getSimpleName();
    }
}
