package io.godwit.transport.exec.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code sh -c COMMAND} process with its stderr in a temporary file, so that a failure can be
 * told with the command's own words and no thread drains a pipe.
 */
final class ShellCommand {

    /** How much of the end of stderr a failure message quotes. */
    private static final int STDERR_TAIL = 400;

    final String command;
    private final Process process;
    private final Path stderr;
    private final long exitTimeoutMs;
    private final AtomicBoolean released = new AtomicBoolean();

    private ShellCommand(String command, Process process, Path stderr, long exitTimeoutMs) {
        this.command = command;
        this.process = process;
        this.stderr = stderr;
        this.exitTimeoutMs = exitTimeoutMs;
    }

    /** Starts the command with the given stdin and stdout; stderr goes to a temporary file. */
    static ShellCommand start(String command, Redirect in, Redirect out, long exitTimeoutMs) throws IOException {
        Path stderr = Files.createTempFile("godwit-exec-", ".stderr");
        try {
            Process p = new ProcessBuilder(List.of("sh", "-c", command))
                    .redirectInput(in).redirectOutput(out).redirectError(stderr.toFile()).start();
            return new ShellCommand(command, p, stderr, exitTimeoutMs);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(stderr);
            throw new IOException(uri(command) + ": cannot start sh: " + e.getMessage(), e);
        }
    }

    static Redirect devNull() {
        return Redirect.from(new File("/dev/null"));
    }

    String uri() {
        return uri(command);
    }

    private static String uri(String command) {
        return "exec:" + command;
    }

    OutputStream stdin() {
        return process.getOutputStream();
    }

    InputStream stdout() {
        return process.getInputStream();
    }

    /**
     * Waits for the command to exit and fails unless it exited 0; on timeout the command is killed.
     * Called at the normal end of a stream.
     */
    void awaitSuccess() throws IOException {
        int status = awaitExit(exitTimeoutMs);
        if (status < 0) {
            kill();
            throw new IOException(uri() + ": did not exit within " + exitTimeoutMs + " ms after the end of the stream");
        }
        if (status != 0) {
            throw failure(status);
        }
    }

    /**
     * After an I/O error on a pipe: if the command has exited with a failure (quickly, as a command
     * that broke the pipe does), the command's reason, else {@code e} with the command's name.
     */
    IOException explain(IOException e) {
        int status = awaitExit(2_000);
        if (status > 0) {
            IOException f = failure(status);
            f.initCause(e);
            return f;
        }
        return new IOException(uri() + ": " + e.getMessage(), e);
    }

    /** The exit status, or -1 if still running after {@code ms}. */
    private int awaitExit(long ms) {
        try {
            return process.waitFor(ms, TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private IOException failure(int status) {
        String why = status > 128 ? "killed by signal " + (status - 128) : "exit status " + status;
        String err = stderrTail();
        return new IOException(uri() + ": " + why + (err.isEmpty() ? "" : ": " + err));
    }

    /** The last lines of stderr, joined with "; ". */
    private String stderrTail() {
        try {
            String text = Files.readString(stderr, StandardCharsets.UTF_8).strip();
            if (text.length() > STDERR_TAIL) {
                text = "..." + text.substring(text.length() - STDERR_TAIL);
            }
            return String.join("; ", text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** Kills the command and everything it started, so that no process holds the pipes open. */
    void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /**
     * Frees everything: kills the command if it still runs, closes the pipes, reaps the process and
     * deletes the stderr file. Idempotent; from any thread.
     */
    void release() {
        if (!released.compareAndSet(false, true)) {
            return;
        }
        if (process.isAlive()) {
            kill();
        }
        closeQuietly(process.getOutputStream());
        closeQuietly(process.getInputStream());
        closeQuietly(process.getErrorStream());
        awaitExit(5_000);
        try {
            Files.deleteIfExists(stderr);
        } catch (IOException ignored) {
            // a temporary file left behind; nothing else to do
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // the pipe is going away either way
        }
    }
}
