package io.godwit.transport.exec.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    /** The bytes read from the end of stderr: enough for {@link #STDERR_TAIL} characters of UTF-8. */
    private static final int TAIL_BYTES = STDERR_TAIL * 4;

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

    /**
     * The end of stderr, its lines joined with "; ". Only the last {@link #TAIL_BYTES} bytes are read,
     * however much the command wrote, and they are decoded leniently: a command's stderr need not be
     * UTF-8, and its failure must still be told.
     */
    private String stderrTail() {
        try (FileChannel file = FileChannel.open(stderr, StandardOpenOption.READ)) {
            long from = Math.max(0, file.size() - TAIL_BYTES);
            ByteBuffer tail = ByteBuffer.allocate((int) (file.size() - from));
            while (tail.hasRemaining() && file.read(tail, from + tail.position()) > 0) {
                // positional reads until the buffer is full or the file ends
            }
            int start = from > 0 ? characterStart(tail.array(), tail.position()) : 0;
            // new String replaces malformed input with U+FFFD; it never throws
            String text = new String(tail.array(), start, tail.position() - start, StandardCharsets.UTF_8).strip();
            boolean cut = from > 0;
            if (text.length() > STDERR_TAIL) {
                text = text.substring(text.length() - STDERR_TAIL);
                cut = true;
            }
            if (!text.isEmpty() && Character.isLowSurrogate(text.charAt(0))) {
                text = text.substring(1); // the cut fell inside a pair
            }
            String lines = String.join("; ", text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
            return cut && !lines.isEmpty() ? "..." + lines : lines;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** The first byte of {@code b} that does not continue a UTF-8 character cut off by the tail's start. */
    private static int characterStart(byte[] b, int length) {
        int i = 0;
        while (i < Math.min(3, length) && (b[i] & 0xC0) == 0x80) {
            i++;
        }
        return i;
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
