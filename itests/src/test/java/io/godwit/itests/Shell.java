package io.godwit.itests;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/** A Gogo session with captured output, driven one command line at a time. */
final class Shell implements AutoCloseable {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CommandSession session;

    Shell(CommandProcessor processor) {
        session = processor.createSession(
                new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));
    }

    /** Runs a command line; returns what it printed followed by its result, as the console shows them. */
    String run(String line) throws Exception {
        out.reset();
        Object result = session.execute(line);
        String printed = printed();
        String shown = result == null ? "" : String.valueOf(result);
        return printed.isEmpty() ? shown : shown.isEmpty() ? printed : printed + "\n" + shown;
    }

    /** Runs a command line that must fail, and returns how it failed. */
    Exception fail(String line) {
        out.reset();
        try {
            Object result = session.execute(line);
            throw new AssertionError("'" + line + "' should have failed but returned: " + result);
        } catch (Exception e) {
            return e;
        }
    }

    /** What the last command printed to the session's output. */
    String printed() {
        return out.toString(UTF_8).strip();
    }

    /** Everything written to the session's error stream so far. */
    String errors() {
        return err.toString(UTF_8);
    }

    @Override
    public void close() {
        session.close();
    }
}
