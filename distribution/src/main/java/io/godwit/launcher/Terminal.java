package io.godwit.launcher;

import java.io.InputStream;
import java.io.PrintStream;

/**
 * The process's real stdin, stdout and stderr, captured at the very start. Later both the
 * launcher ({@link HostLog}) and Gogo's ThreadIO replace {@code System.out}/{@code err}/{@code in};
 * what the user must see (script output, errors, the daemon's ready line) goes through these.
 */
public record Terminal(InputStream in, PrintStream out, PrintStream err) {

    /** Captures the streams as they are now; call before anything replaces them. */
    public static Terminal capture() {
        return new Terminal(System.in, System.out, System.err);
    }
}
