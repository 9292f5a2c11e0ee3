package io.godwit.launcher;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * One log file per host process, and the rule that logs never reach command output.
 *
 * <p>Why the JVM's {@code System.out}/{@code System.err} are redirected into the log: Gogo's ThreadIO
 * replaces both with per-thread streams, and inside a command thread they are the command's own
 * output. SCR's fallback logger and stray {@code printStackTrace()} calls
 * all write to {@code System.err} or {@code System.out}; pointing the defaults at the log file before
 * the framework starts sends all of them here. The real terminal streams are captured first and
 * kept by {@link Terminal} for what the user must see, and restored by {@link #close()}.
 *
 * <p>The bundles log through slf4j to java.util.logging, whose one handler ({@link JulLog}) writes
 * to this stream itself, never to whatever {@code System.err} is at the time, so their lines never
 * reach command output either.
 */
public final class HostLog implements AutoCloseable {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final Path file;
    private final PrintStream stream;
    private final PrintStream previousOut;
    private final PrintStream previousErr;

    private HostLog(Path file, PrintStream stream, PrintStream previousOut, PrintStream previousErr) {
        this.file = file;
        this.stream = stream;
        this.previousOut = previousOut;
        this.previousErr = previousErr;
    }

    /** Opens (appends to) {@code file} and makes it the JVM's default stdout and stderr. */
    public static HostLog open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        PrintStream stream = new PrintStream(new FileOutputStream(file.toFile(), true), true, StandardCharsets.UTF_8);
        HostLog log = new HostLog(file, stream, System.out, System.err);
        System.setOut(stream);
        System.setErr(stream);
        JulLog.install(stream);
        return log;
    }

    /** The log file. */
    public Path file() {
        return file;
    }

    /** The log stream (also the JVM's System.out and System.err defaults). */
    public PrintStream stream() {
        return stream;
    }

    /** Writes one launcher line in the same shape as the bundles' lines ({@link JulLog}). */
    public void info(String message) {
        write("INFO", message, null);
    }

    public void warn(String message, Throwable t) {
        write("WARN", message, t);
    }

    void write(String level, String message, Throwable t) {
        synchronized (stream) {
            stream.println(LocalDateTime.now().format(TIME) + " [" + Thread.currentThread().getName() + "] "
                    + level + " io.godwit.launcher - " + message);
            if (t != null) {
                t.printStackTrace(stream);
            }
        }
    }

    /** Felix's framework logger, writing here instead of to {@code System.out}. */
    public org.apache.felix.framework.Logger felixLogger() {
        return new org.apache.felix.framework.Logger() {
            @Override
            protected void doLog(int level, String msg, Throwable throwable) {
                String name = switch (level) {
                    case LOG_ERROR -> "ERROR";
                    case LOG_WARNING -> "WARN";
                    case LOG_INFO -> "INFO";
                    default -> "DEBUG";
                };
                write(name, "felix: " + msg, throwable);
            }
        };
    }

    /** Puts the terminal streams back, so that messages after the host stopped reach the user. */
    @Override
    public void close() {
        System.setOut(previousOut);
        System.setErr(previousErr);
        stream.flush();
    }
}
