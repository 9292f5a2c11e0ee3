package io.godwit.transport.exec.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.util.EnumSet;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code exec:COMMAND} transport, as QEMU's: the command runs under {@code sh -c}; a source writes
 * the stream to its stdin, a destination reads the stream from its stdout. One channel, one way: no
 * return path, so the source completes once the command has taken the whole stream and exited 0.
 */
@Component(configurationPid = "io.godwit.transport.exec", property = Transport.SCHEME + "=exec")
public class ExecTransport implements Transport {

    /** Configuration, PID {@code io.godwit.transport.exec}. */
    public @interface Config {
        /** How long the end of a stream waits for the command to exit (gzip flushing, ssh closing). */
        int exit_timeout_ms() default 60_000;
    }

    private final long exitTimeoutMs;

    @Activate
    public ExecTransport(Config config) {
        this(config.exit_timeout_ms());
    }

    ExecTransport(long exitTimeoutMs) {
        this.exitTimeoutMs = exitTimeoutMs;
    }

    /** One way and one channel: no capability beyond a byte stream. */
    @Override
    public Set<TransportCapability> capabilities() {
        return EnumSet.noneOf(TransportCapability.class);
    }

    /** Starts the command; the stream goes to its stdin, its stdout is discarded. */
    @Override
    public MigrationChannel connectOutgoing(String command) throws IOException {
        ShellCommand shell = ShellCommand.start(parse(command), Redirect.PIPE, Redirect.DISCARD, exitTimeoutMs);
        return new StdinChannel(shell);
    }

    /** Checks the command; it starts when the incoming migration accepts, and its stdout is the stream. */
    @Override
    public IncomingListener listenIncoming(String command) {
        return new ExecListener(parse(command), exitTimeoutMs);
    }

    static String parse(String command) {
        if (command.isBlank()) {
            throw new IllegalArgumentException("exec needs a shell command, as in exec:cat > vm.img: '" + command + "'");
        }
        if (command.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("exec command contains a NUL byte: '" + command.replace("\0", "\\0") + "'");
        }
        return command;
    }
}
