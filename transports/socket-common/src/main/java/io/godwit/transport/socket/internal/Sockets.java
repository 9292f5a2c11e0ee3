package io.godwit.transport.socket.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.NetworkChannel;

/** Small helpers the socket transports share. */
public final class Sockets {

    private Sockets() {}

    /**
     * Sets SO_SNDBUF and SO_RCVBUF to {@code bytes}; 0 keeps the kernel's defaults (and, for TCP, its
     * buffer autotuning, which an explicit size turns off).
     */
    public static void setBuffers(NetworkChannel channel, int bytes) throws IOException {
        if (bytes > 0) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, bytes);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, bytes);
        }
    }

    /**
     * The same failure with the URI in front, as one line: {@code tcp:127.0.0.1:1: connection refused}.
     * Keeps the kind of failure callers may test for (refused, timed out, unknown host, address in use).
     */
    public static IOException describe(String uri, IOException e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (reason.length() > 1 && Character.isUpperCase(reason.charAt(0)) && Character.isLowerCase(reason.charAt(1))) {
            reason = Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
        }
        String message = uri + ": " + reason;
        IOException described = switch (e) {
            case ConnectException c -> new ConnectException(message);
            case SocketTimeoutException t -> new SocketTimeoutException(message);
            case UnknownHostException u -> new UnknownHostException(message);
            case BindException b -> new BindException(message);
            default -> new IOException(message);
        };
        described.initCause(e);
        return described;
    }

    /** Closes a half-made channel after a failure, keeping any close failure as suppressed. */
    public static void closeAfterFailure(Closeable closeable, Throwable failure) {
        try {
            closeable.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
