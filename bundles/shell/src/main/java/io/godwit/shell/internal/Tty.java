package io.godwit.shell.internal;

import java.io.Console;
import java.io.PrintStream;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Process;

/**
 * Where a command's output goes, and whether that is a terminal a progress bar may redraw with
 * {@code '\r'}. Gogo cannot say: its {@code Process.isTty(1)} only tells whether the statement's
 * stdout is redirected or piped inside Gogo. So output counts as a terminal when it is not
 * redirected or piped inside Gogo, and
 * <ul>
 *   <li>the session variable {@value #VARIABLE} says so ({@code true} or {@code false}): the
 *       monitor sets it to false for each connection, since the host cannot see the client's
 *       terminal, and the launcher's {@code --connect} sends {@code GODWIT_TTY = true; COLUMNS = N; }
 *       before its script when its own stdout is a terminal; the launcher's {@code -c} mode sets
 *       both from its stdout too; users may set it in the console;</li>
 *   <li>otherwise, when the host's own stdin and stdout are a terminal ({@link Console#isTerminal}):
 *       the console on a terminal.</li>
 * </ul>
 */
record Tty(PrintStream out, boolean terminal, int width) {

    /** The session variable that overrides the detection. */
    static final String VARIABLE = "GODWIT_TTY";

    /** Assumed when the session does not say (gogo.jline's console keeps {@code COLUMNS} up to date). */
    static final int DEFAULT_WIDTH = 80;

    /** The current statement's stdout and what it is, as seen from the command's thread. */
    static Tty of(CommandSession session) {
        Process process = Process.Utils.current();
        PrintStream out = process != null ? process.out() : System.out;
        return new Tty(out, isTerminal(session, process), width(session));
    }

    private static boolean isTerminal(CommandSession session, Process process) {
        if (process != null && !process.isTty(1)) {
            return false;
        }
        Object forced = session != null ? session.get(VARIABLE) : null;
        if (forced instanceof Boolean || forced instanceof CharSequence) { // Gogo may keep a Token
            return Boolean.parseBoolean(forced.toString().strip());
        }
        Console console = System.console();
        return console != null && console.isTerminal();
    }

    private static int width(CommandSession session) {
        Object columns = session != null ? session.get("COLUMNS") : null;
        try {
            int w = columns instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(columns).strip());
            return w >= 20 ? w : DEFAULT_WIDTH;
        } catch (NumberFormatException e) {
            return DEFAULT_WIDTH;
        }
    }
}
