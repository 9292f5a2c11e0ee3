package io.godwit.launcher;

import java.nio.file.Path;
import java.util.Objects;

import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;

/**
 * The parsed command line. One mode per process: the combinations that make no sense are refused
 * here, with a message naming the option, so that a typo never silently starts the wrong kind of host.
 *
 * @param mode        what this process does
 * @param script      the Gogo script of {@code -c} (script or connect mode), else null
 * @param monitor     {@code --monitor} address served by the shell bundle, else null
 * @param connect     {@code --connect} address of a running host, else null
 * @param readyFile   {@code --ready-file}: written once a daemon is ready, else null
 * @param logFile     {@code --log}: this host's log file, else null for log/godwit-&lt;pid&gt;.log
 * @param waitFilter  {@code --wait}: the service filter a script waits for, else null for the godwit shell
 * @param noWait      {@code --no-wait}: run the script as soon as the framework has started
 */
public record Options(Mode mode, String script, MonitorAddress monitor, MonitorAddress connect,
                      Path readyFile, Path logFile, String waitFilter, boolean noWait) {

    /** What the process does. */
    public enum Mode {
        /** A host with the interactive Gogo console. */
        CONSOLE,
        /** A fresh host runs one script and exits. */
        SCRIPT,
        /** A host without console that runs until a signal or {@code quit}. */
        DAEMON,
        /** No host: a client of a running host's monitor socket. */
        CONNECT,
        /** Print the usage text. */
        HELP
    }

    public Options {
        Objects.requireNonNull(mode, "mode");
    }

    /** Thrown for a command line that cannot be run; the message is one line for the user. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    /**
     * Parses the launcher's arguments.
     *
     * @throws UsageException for an unknown option, a missing value or a contradictory combination
     */
    public static Options parse(String... args) throws UsageException {
        String script = null;
        String monitor = null;
        String connect = null;
        String readyFile = null;
        String logFile = null;
        String waitFilter = null;
        boolean daemon = false;
        boolean noWait = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> {
                    return new Options(Mode.HELP, null, null, null, null, null, null, false);
                }
                case "-c", "--command" -> script = once(arg, script, value(args, ++i, arg));
                case "--daemon" -> daemon = true;
                case "--monitor" -> monitor = once(arg, monitor, value(args, ++i, arg));
                case "--connect" -> connect = once(arg, connect, value(args, ++i, arg));
                case "--ready-file" -> readyFile = once(arg, readyFile, value(args, ++i, arg));
                case "--log" -> logFile = once(arg, logFile, value(args, ++i, arg));
                case "--wait" -> waitFilter = once(arg, waitFilter, value(args, ++i, arg));
                case "--no-wait" -> noWait = true;
                default -> throw new UsageException(arg.startsWith("-")
                        ? "unknown option " + arg
                        : "unexpected argument '" + arg + "' (quote the script: -c \"CMD; CMD\")");
            }
        }
        Mode mode = connect != null ? Mode.CONNECT
                : daemon ? Mode.DAEMON
                : script != null ? Mode.SCRIPT
                : Mode.CONSOLE;
        check(mode, script, monitor, readyFile, logFile, waitFilter, noWait);
        if (waitFilter != null) {
            checkFilter(waitFilter);
        }
        return new Options(mode, script,
                monitor == null ? null : MonitorAddress.parse(monitor, "--monitor"),
                connect == null ? null : MonitorAddress.parse(connect, "--connect"),
                readyFile == null ? null : Path.of(readyFile),
                logFile == null ? null : Path.of(logFile),
                waitFilter, noWait);
    }

    /** Refuses combinations that belong to another mode, so the user learns which one they asked for. */
    private static void check(Mode mode, String script, String monitor, String readyFile, String logFile,
                              String waitFilter, boolean noWait) throws UsageException {
        boolean waitOption = waitFilter != null || noWait;
        switch (mode) {
            case CONNECT -> {
                if (script == null) {
                    throw new UsageException("--connect needs a script: --connect unix:PATH -c \"CMD; CMD\"");
                }
                refuse(monitor != null, "--monitor", "--connect");
                refuse(readyFile != null, "--ready-file", "--connect");
                refuse(logFile != null, "--log", "--connect");
                refuse(waitOption, waitFilter != null ? "--wait" : "--no-wait", "--connect");
            }
            case DAEMON -> {
                refuse(script != null, "-c", "--daemon");
                refuse(waitOption, waitFilter != null ? "--wait" : "--no-wait", "--daemon");
                if (monitor == null) {
                    throw new UsageException("--daemon needs --monitor unix:PATH (a daemon must be reachable)");
                }
            }
            case SCRIPT -> {
                refuse(monitor != null, "--monitor", "-c");
                refuse(readyFile != null, "--ready-file", "-c");
                refuse(waitFilter != null && noWait, "--wait", "--no-wait");
            }
            case CONSOLE -> {
                refuse(readyFile != null, "--ready-file", "the console (add --daemon)");
                refuse(waitOption, waitFilter != null ? "--wait" : "--no-wait", "the console (add -c)");
            }
            case HELP -> { }
        }
    }

    /** A bad filter is a typo on the command line: say so now, not after the host has started. */
    private static void checkFilter(String filter) throws UsageException {
        try {
            FrameworkUtil.createFilter(filter);
        } catch (InvalidSyntaxException | RuntimeException e) {
            throw new UsageException("--wait wants an LDAP filter such as (godwit.transport.scheme=rdma), not '"
                    + filter + "'");
        }
    }

    private static void refuse(boolean present, String option, String mode) throws UsageException {
        if (present) {
            throw new UsageException(option + " cannot be used with " + mode);
        }
    }

    private static String value(String[] args, int i, String option) throws UsageException {
        if (i >= args.length) {
            throw new UsageException(option + " needs a value");
        }
        return args[i];
    }

    private static String once(String option, String previous, String value) throws UsageException {
        if (previous != null) {
            throw new UsageException(option + " given twice (join commands with ';' in one -c)");
        }
        return value;
    }
}
