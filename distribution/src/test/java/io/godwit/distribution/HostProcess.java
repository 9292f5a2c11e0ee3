package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.fail;

import io.godwit.launcher.MonitorAddress;
import io.godwit.launcher.MonitorClient;
import io.godwit.launcher.Options;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One host of the assembled home as a user runs it: {@code bin/godwit --daemon --monitor unix:SOCK
 * --ready-file F --log L}, a process of its own, driven through its monitor socket only. Its files
 * ({@code NAME.sock}, {@code NAME.ready}, {@code NAME.log}, {@code NAME.out}) lie in the test's
 * directory, so that a failed run leaves them to read.
 *
 * <p>The process runs under umask 022 ({@code sh -c 'umask 022 && exec bin/godwit ...'}), and the
 * script {@code bin/godwit} execs the JVM, so the process started here is the host itself and its
 * pid is the host's (which the ready file confirms).
 */
final class HostProcess {

    /** The outcome of one monitor script: the exit status and the two streams. */
    record Result(String script, int exit, String out, String err) {

        /** This result, if the script succeeded; else the test fails with everything it printed. */
        Result ok() {
            if (exit != 0) {
                fail("'" + script + "' failed with status " + exit + "\n" + this);
            }
            return this;
        }

        @Override
        public String toString() {
            return "--- stdout of '" + script + "' (status " + exit + ")\n" + out
                    + (err.isEmpty() ? "" : "--- stderr\n" + err);
        }
    }

    /** A monitor client in a process of its own ({@code bin/godwit --connect}), still running. */
    static final class Client {
        private final String script;
        private final Process process;
        private final Path out;
        private final Path err;

        private Client(String script, Process process, Path out, Path err) {
            this.script = script;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        long pid() {
            return process.pid();
        }

        /** Waits for the client to exit; fails (and kills it) if it does not within {@code timeout}. */
        Result await(Duration timeout) throws IOException, InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                fail("'" + script + "' (bin/godwit --connect, pid " + process.pid() + ") did not end within "
                        + timeout.toSeconds() + " s\n" + new Result(script, -1, read(out), read(err)));
            }
            return new Result(script, process.exitValue(), read(out), read(err));
        }
    }

    /** How long a host may take to stop after SIGTERM before it is killed (stopping takes about 1 s). */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

    /**
     * Every process started here that may still run: should the test JVM end before the tests' own
     * cleanup (a fork killed on a timeout cannot run it, but System.exit or a signal can), they go too.
     */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "HostProcess-cleanup"));
    }

    private final String name;
    private final Path home;
    private final Path dir;
    private final MonitorAddress monitor;
    private final Path readyFile;
    private final Path logFile;
    private final Path outFile;
    private final Process process;
    private final List<Client> startedClients = new ArrayList<>();
    private int clients;

    private HostProcess(String name, Path home, Path dir, MonitorAddress monitor, Process process) {
        this.name = name;
        this.home = home;
        this.dir = dir;
        this.monitor = monitor;
        this.readyFile = dir.resolve(name + ".ready");
        this.logFile = dir.resolve(name + ".log");
        this.outFile = dir.resolve(name + ".out");
        this.process = process;
    }

    /** Starts a host daemon named {@code name}; {@link #awaitReady} waits until it is reachable. */
    static HostProcess start(Path home, Path dir, String name) throws IOException {
        return start(home, dir, name, null);
    }

    /** As {@link #start(Path, Path, String)}, with settings for this host only ({@code JAVA_OPTS}, may be null). */
    static HostProcess start(Path home, Path dir, String name, String javaOpts) throws IOException {
        MonitorAddress monitor = address(dir.resolve(name + ".sock"));
        ProcessBuilder builder = command(home, "--daemon", "--monitor", monitor.uri(),
                "--ready-file", dir.resolve(name + ".ready").toString(),
                "--log", dir.resolve(name + ".log").toString());
        if (javaOpts != null) {
            builder.environment().put("JAVA_OPTS", javaOpts);
        }
        builder.redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile());
        Process process = started(builder);
        process.getOutputStream().close(); // a daemon reads no input
        return new HostProcess(name, home, dir, monitor, process);
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return ProcessHandle.of(pid()).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Waits for the ready file, which the host writes once its monitor accepts clients. */
    void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(readyFile)) {
            if (!process.isAlive()) {
                fail("host " + name + " exited with status " + process.exitValue() + " before it was ready\n"
                        + diagnostics());
            }
            if (System.nanoTime() > deadline) {
                fail("host " + name + " (pid " + pid() + ") was not ready within " + timeout.toSeconds() + " s\n"
                        + diagnostics());
            }
            Thread.sleep(50);
        }
        String pid = Files.readString(readyFile, StandardCharsets.UTF_8).strip();
        if (!pid.equals(Long.toString(pid()))) {
            fail("host " + name + ": the ready file names pid " + pid + ", the process is " + pid() + "\n"
                    + diagnostics());
        }
    }

    /** Runs a script through the monitor socket with the launcher's own client, in this JVM. */
    Result run(String script) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = new MonitorClient(o, e).run(monitor, script);
        }
        return new Result(script, exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs a script as a user does: {@code bin/godwit --connect unix:SOCK -c SCRIPT}, a process of its own. */
    Result runClient(String script, Duration timeout) throws IOException, InterruptedException {
        return startClient(script).await(timeout);
    }

    /**
     * As {@link #runClient}, as another user ({@code runuser -u USER}, which needs root): how another
     * user on the host tries the monitor. Its output files are written by this process, not the user.
     */
    Result runClientAs(String user, String script, Duration timeout) throws IOException, InterruptedException {
        return startClient(script, List.of("runuser", "-u", user, "--")).await(timeout);
    }

    /** Starts {@code bin/godwit --connect unix:SOCK -c SCRIPT} and returns at once. */
    Client startClient(String script) throws IOException {
        return startClient(script, List.of());
    }

    private Client startClient(String script, List<String> asUser) throws IOException {
        int n = ++clients;
        Path out = dir.resolve(name + ".client-" + n + ".out");
        Path err = dir.resolve(name + ".client-" + n + ".err");
        ProcessBuilder builder = command(home, "--connect", monitor.uri(), "-c", script);
        builder.command().addAll(0, asUser);
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = started(builder);
        process.getOutputStream().close();
        Client client = new Client(script, process, out, err);
        startedClients.add(client);
        return client;
    }

    /** SIGKILL, by pid, as a crash would end it; returns once the process is gone. */
    void kill() throws InterruptedException {
        ProcessHandle.of(pid()).ifPresent(ProcessHandle::destroyForcibly);
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("host " + name + " (pid " + pid() + ") still runs " + STOP_TIMEOUT.toSeconds() + " s after SIGKILL");
        }
    }

    /**
     * SIGTERM by pid, as an operator stops a daemon, and SIGKILL if it has not stopped within
     * {@link #STOP_TIMEOUT}; the clients started with {@link #startClient} that still run are killed
     * first. Returns false when the host needed the SIGKILL, true when SIGTERM stopped it or it was
     * gone already.
     */
    boolean stop() throws InterruptedException {
        for (Client client : startedClients) {
            if (client.process.isAlive()) {
                client.process.destroyForcibly();
                client.process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid());
        if (handle.isEmpty() || !process.isAlive()) {
            process.waitFor(); // reaps it
            return true;
        }
        handle.get().destroy();
        if (process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            return true;
        }
        handle.get().destroyForcibly();
        process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return false;
    }

    /** The end of the host's stdout and log, for a failure message. */
    String diagnostics() {
        return "--- " + outFile + "\n" + tail(outFile, 20) + "--- " + logFile + "\n" + tail(logFile, 60);
    }

    @Override
    public String toString() {
        return "host " + name + " (pid " + pid() + ", monitor " + monitor + ")";
    }

    /**
     * {@code bin/godwit ARGS} under the usual umask 022, whatever the build's: a host must make its
     * files owner-only by itself, and the tests see whether it does.
     */
    private static ProcessBuilder command(Path home, String... args) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "umask 022 && exec \"$0\" \"$@\""));
        command.add(home.resolve("bin/godwit").toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        // The JVM running the test is a JDK 25: the hosts use it too, whatever is on PATH.
        builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        builder.environment().remove("JAVA_OPTS");
        return builder;
    }

    private static Process started(ProcessBuilder builder) throws IOException {
        Process process = builder.start();
        LIVE.add(process);
        process.onExit().thenAccept(LIVE::remove);
        return process;
    }

    private static MonitorAddress address(Path socket) {
        try {
            return MonitorAddress.parse("unix:" + socket, "--monitor");
        } catch (Options.UsageException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
            StringBuilder s = new StringBuilder();
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> s.append(l).append('\n'));
            return s.toString();
        } catch (IOException e) {
            return "(unreadable: " + e + ")\n";
        }
    }
}
