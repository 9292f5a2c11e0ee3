package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The paths through Main that need no framework: usage, usage errors, an unreachable host. */
class MainTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new Terminal(new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
    }

    @Test
    void helpPrintsTheUsage() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: godwit [OPTIONS]"));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownOptionIsOneLineAndStatusTwo() {
        assertEquals(2, run("--bogus"));
        assertEquals("Error: unknown option --bogus (see godwit --help)\n", err.toString(StandardCharsets.UTF_8));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void connectingToNothingIsStatusTwo() {
        assertEquals(2, run("--connect", "unix:/nonexistent/godwit.sock", "-c", "info status"));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("Error: cannot connect to unix:/nonexistent/godwit.sock"));
    }
}
