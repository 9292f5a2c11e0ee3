package io.godwit.launcher;

import java.io.Console;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Whether the launcher's own stdout is a terminal, and how wide it is: what the shell's progress
 * bar needs (the Gogo session variables {@code GODWIT_TTY} and {@code COLUMNS}, see the shell's
 * {@code Tty}). The {@code -c} mode sets them in its session, {@code --connect} puts
 * {@link #scriptPrefix()} before the script it sends, since the host cannot see the client's
 * terminal.
 *
 * <p>Only stdout counts: {@link Console#isTerminal()} also wants stdin to be a terminal, which it
 * is not in {@code godwit -c ... < /dev/null} or in a job started with {@code &}. On Linux the
 * device behind {@code /proc/self/fd/1} tells; elsewhere the Console is the fallback.
 */
record Tty(boolean terminal, int columns) {

    /** The width when neither {@code $COLUMNS} nor {@code stty size} tells. */
    static final int DEFAULT_COLUMNS = 80;

    /** Not a terminal: plain progress lines. */
    static final Tty NONE = new Tty(false, DEFAULT_COLUMNS);

    /** The launcher's stdout as it is now. */
    static Tty ofStdout() {
        String device = stdoutDevice();
        boolean terminal;
        if (device != null) {
            terminal = isTerminalDevice(device);
        } else {
            Console console = System.console();
            terminal = console != null && console.isTerminal();
        }
        if (!terminal) {
            return NONE;
        }
        String tty = device != null ? device : "/dev/tty";
        return new Tty(true, columns(System.getenv("COLUMNS"), () -> sttyColumns(tty)));
    }

    /** {@code "GODWIT_TTY = true; COLUMNS = 120; "} for a terminal, nothing otherwise. */
    String scriptPrefix() {
        return terminal ? "GODWIT_TTY = true; COLUMNS = " + columns + "; " : "";
    }

    /** What {@code /proc/self/fd/1} points to ({@code /dev/pts/3}, {@code pipe:[1234]}), or null without /proc. */
    private static String stdoutDevice() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/1")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /** A pseudo terminal, a virtual console or serial line, or the console device. */
    static boolean isTerminalDevice(String device) {
        return device.startsWith("/dev/pts/") || device.startsWith("/dev/tty") || device.equals("/dev/console");
    }

    /** {@code $COLUMNS} when it is a plausible width, else what {@code stty} says, else the default. */
    static int columns(String env, Supplier<String> stty) {
        Integer width = parseWidth(env);
        if (width == null) {
            String[] size = String.valueOf(stty.get()).strip().split("\\s+"); // "ROWS COLUMNS"
            width = size.length == 2 ? parseWidth(size[1]) : null;
        }
        return width != null ? width : DEFAULT_COLUMNS;
    }

    private static Integer parseWidth(String s) {
        try {
            int w = Integer.parseInt(s == null ? "" : s.strip());
            return w >= 20 && w <= 1000 ? w : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code stty size < DEVICE} (a few milliseconds), or null when it cannot tell. */
    private static String sttyColumns(String device) {
        try {
            Process stty = new ProcessBuilder("stty", "size")
                    .redirectInput(new File(device))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!stty.waitFor(1, TimeUnit.SECONDS)) { // its one short line fits in the pipe
                stty.destroyForcibly();
                return null;
            }
            String out = new String(stty.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return stty.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
