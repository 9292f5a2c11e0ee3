package io.godwit.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code bin/godwit.jar}: starts a Godwit host (console, script or daemon), or talks to a running
 * one ({@code --connect}). Exit status: 0 success, 1 a command failed or the host could not get
 * ready, 2 a bad command line or an unreachable host.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        Thread.currentThread().setName("godwit-launcher");
        // A host has no display: the report's charts draw with AWT, which must never reach for one
        // (a DISPLAY in the environment would make it try). A -D on the command line still wins.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        Terminal terminal = Terminal.capture();
        System.exit(run(args, terminal));
    }

    /** Everything but the {@code System.exit}, so that tests can call it. */
    static int run(String[] args, Terminal terminal) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (Options.UsageException e) {
            terminal.err().println("Error: " + e.getMessage() + " (see godwit --help)");
            return HostRunner.USAGE;
        }
        return switch (options.mode()) {
            case HELP -> usage(terminal.out());
            case CONNECT -> new MonitorClient(terminal.out(), terminal.err(), Tty.ofStdout())
                    .run(options.connect(), options.script());
            default -> new HostRunner(options, terminal).run();
        };
    }

    private static int usage(PrintStream out) {
        try (InputStream in = Main.class.getResourceAsStream("usage.txt")) {
            out.print(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            out.flush();
            return HostRunner.OK;
        } catch (IOException | NullPointerException e) {
            out.println("usage text missing from the launcher jar");
            return HostRunner.FAILED;
        }
    }
}
