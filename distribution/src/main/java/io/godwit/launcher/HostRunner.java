package io.godwit.launcher;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs a host process in one of the host modes (console, script, daemon): locates the home,
 * opens the log, loads the configuration, starts Felix and hands over to the mode. Whatever
 * happens, the framework is stopped and {@code run/<pid>/} removed before the process exits.
 */
public final class HostRunner {

    /** Exit status: success. */
    public static final int OK = 0;
    /** Exit status: a command failed, or the host could not get ready. */
    public static final int FAILED = 1;
    /** Exit status: bad command line, or the monitor address is taken. */
    public static final int USAGE = 2;

    private final Options options;
    private final Terminal terminal;

    public HostRunner(Options options, Terminal terminal) {
        this.options = options;
        this.terminal = terminal;
    }

    /** A host mode; returns the process exit status. */
    interface Mode {
        int run(Context context) throws Exception;
    }

    /** What a mode works with. */
    record Context(Options options, Terminal terminal, HostHome home, HostLog log, Host host,
                   Shutdown shutdown, long waitMillis) {

        /** " (see log/godwit-1234.log)": where the details of a failure are. */
        String seeLog() {
            return " (see " + log.file() + ")";
        }
    }

    public int run() {
        HostHome home;
        try {
            home = HostHome.locate();
            home.prepare();
        } catch (IOException e) {
            terminal.err().println("Error: " + e.getMessage());
            return FAILED;
        }
        if (options.monitor() != null) {
            String problem = MonitorSocket.claim(options.monitor());
            if (problem != null) {
                terminal.err().println("Error: " + problem);
                home.removeRunDir();
                return USAGE;
            }
        }
        HostLog log;
        try {
            log = HostLog.open(options.logFile() != null ? options.logFile() : home.defaultLog());
        } catch (IOException e) {
            terminal.err().println("Error: cannot open the log: " + e.getMessage());
            home.removeRunDir();
            return FAILED;
        }
        Shutdown shutdown = new Shutdown(home, log);
        shutdown.install();
        try {
            return runHost(home, log, shutdown);
        } catch (Exception e) {
            log.warn("the host failed", e);
            if (!shutdown.signalled()) {
                terminal.err().println("Error: " + Errors.rootMessage(e) + " (see " + log.file() + ")");
            }
            return FAILED;
        } finally {
            shutdown.run();
            log.close();
        }
    }

    private int runHost(HostHome home, HostLog log, Shutdown shutdown) throws Exception {
        log.info("godwit host pid " + home.pid() + ", home " + home.root() + ", mode " + options.mode());
        Map<String, String> config = HostConfig.load(home.config(), builtins(home, log), System.getProperties());
        if (options.monitor() != null) {
            config.put("godwit.monitor", options.monitor().uri());
        }
        JulLog.applyStartLevels(config, log);
        long waitMillis = 1000L * Long.parseLong(config.getOrDefault("godwit.wait.seconds", "30").trim());
        Host host = Host.create(config, log);
        shutdown.host(host);
        StartWatchdog watchdog = StartWatchdog.start(waitMillis, log, terminal.err());
        host.start(home.bundles());
        watchdog.cancel();
        // Ready means with the plugins of deploy/: its watcher comes from a .cfg, after the start.
        // (Bounded by itself: a folder FileInstall refuses, say a file, is in its log, not a hang.)
        List<String> unscanned = DeployWait.await(host.context(), waitMillis);
        if (!unscanned.isEmpty()) {
            log.warn("FileInstall has not scanned " + unscanned + " after " + waitMillis / 1000 + " s; going on without", null);
        }
        for (String failure : host.startFailures()) {
            terminal.err().println("godwit: warning: bundle " + failure);
        }
        Context context = new Context(options, terminal, home, log, host, shutdown, waitMillis);
        Mode mode = switch (options.mode()) {
            case SCRIPT -> new ScriptMode();
            case DAEMON -> new DaemonMode();
            case CONSOLE -> new ConsoleMode();
            default -> throw new IllegalStateException("not a host mode: " + options.mode());
        };
        return mode.run(context);
    }

    /** Variables config.properties may use; they cannot be overridden. */
    private static Map<String, String> builtins(HostHome home, HostLog log) {
        Map<String, String> builtins = new TreeMap<>();
        builtins.put("godwit.home", home.root().toString());
        builtins.put("godwit.pid", Long.toString(home.pid()));
        builtins.put("godwit.run", home.runDir().toString());
        builtins.put("godwit.log", log.file().toAbsolutePath().toString());
        return builtins;
    }
}
