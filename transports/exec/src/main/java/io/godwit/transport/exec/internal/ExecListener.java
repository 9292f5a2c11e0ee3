package io.godwit.transport.exec.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.channels.ClosedChannelException;

/**
 * A destination's exec "listener": nothing listens; {@link #accept} starts the command, whose stdout
 * is the stream (stdin is /dev/null). One command per listener, as one file holds one migration.
 */
final class ExecListener implements IncomingListener {

    private final String command;
    private final long exitTimeoutMs;
    private boolean closed;
    private boolean started;

    ExecListener(String command, long exitTimeoutMs) {
        this.command = command;
        this.exitTimeoutMs = exitTimeoutMs;
    }

    @Override
    public String uri() {
        return "exec:" + command;
    }

    @Override
    public synchronized MigrationChannel accept() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (started) {
            throw new IOException(uri() + ": the command was started already; an exec listener accepts once");
        }
        started = true;
        return new StdoutChannel(ShellCommand.start(command, ShellCommand.devNull(), Redirect.PIPE, exitTimeoutMs));
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return uri();
    }
}
