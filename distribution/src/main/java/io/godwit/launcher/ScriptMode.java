package io.godwit.launcher;

import java.io.PrintStream;
import java.util.List;

import org.osgi.framework.ServiceReference;

/**
 * {@code -c "CMD; CMD"}: a fresh host runs one script and exits. It waits for the commands first
 * (DS registers them some time after the bundles start, the migration commands only after the
 * coordinator's service), runs the statements one by one and prints what the Gogo console would
 * print for each typed on its own line (but nothing for an assignment {@code x = ...}), and stops at
 * the first failure with one line {@code Error: <root cause>} on stderr and exit status 1. The
 * shell's monitor runs the scripts of {@code --connect} the same way.
 */
final class ScriptMode implements HostRunner.Mode {

    @Override
    public int run(HostRunner.Context ctx) throws Exception {
        PrintStream out = ctx.terminal().out();
        PrintStream err = ctx.terminal().err();
        ServiceReference<?> processor = ServiceWait.await(ctx.host().context(), ServiceWait.COMMAND_PROCESSOR,
                ctx.waitMillis());
        if (processor == null) {
            err.println("Error: the Gogo runtime did not start within " + seconds(ctx) + ctx.seeLog());
            return HostRunner.FAILED;
        }
        String problem = awaitCommands(ctx);
        if (problem != null) {
            err.println("Error: " + problem + ctx.seeLog());
            return HostRunner.FAILED;
        }
        Tty tty = Tty.ofStdout();
        ctx.log().info("running script" + (tty.terminal() ? " on a terminal of " + tty.columns() + " columns" : "")
                + ": " + ctx.options().script());
        // The real streams: Gogo's ThreadIO has replaced System.out/err with per-thread streams.
        try (GogoSession session = GogoSession.open(ctx.host().context(), processor,
                ctx.terminal().in(), out, err)) {
            run(session, ctx.options().script(), tty, out);
            return HostRunner.OK;
        } catch (Exception e) {
            out.flush();
            ctx.log().warn("script failed", e);
            if (!ctx.shutdown().signalled()) {
                err.println("Error: " + Errors.rootMessage(e));
            }
            return HostRunner.FAILED;
        }
    }

    /**
     * Runs {@code script} step by step, printing each result as the console prints a line's result
     * (nothing for null or an assignment); the shell's monitor runs a script the same way.
     *
     * @param tty the launcher's stdout, told to the session as {@code GODWIT_TTY} and {@code COLUMNS}
     *     (what the progress bar of migrate needs, as {@code --connect} tells the monitor)
     * @throws Exception the first failing step's
     */
    static void run(GogoSession session, String script, Tty tty, PrintStream out) throws Exception {
        session.put("GODWIT_TTY", tty.terminal());
        if (tty.terminal()) {
            session.put("COLUMNS", tty.columns());
        }
        for (GogoSession.Step step : session.steps(script)) {
            Object result;
            try {
                result = session.execute(step.text());
            } catch (IllegalArgumentException e) {
                // Where Gogo refused the line before the command ran (an option without its value),
                // the shell left Godwit's own message in the session (the shell's CommandErrors).
                if (session.get("GODWIT_ERROR") instanceof String own) {
                    throw new IllegalArgumentException(own);
                }
                throw e;
            }
            if (result != null && !step.assignment()) {
                out.println(session.format(result));
            }
            out.flush();
        }
    }

    /** Waits for the godwit shell, or for {@code --wait FILTER}; null when ready, else the problem. */
    private static String awaitCommands(HostRunner.Context ctx) throws Exception {
        Options options = ctx.options();
        if (options.noWait()) {
            return null;
        }
        String filter = options.waitFilter() != null ? options.waitFilter() : ServiceWait.GODWIT_COMMANDS;
        if (ServiceWait.await(ctx.host().context(), filter, ctx.waitMillis()) != null) {
            awaitComponents(ctx);
            return null;
        }
        return options.waitFilter() != null
                ? "no service matching " + filter + " appeared within " + seconds(ctx)
                : "the godwit shell did not start within " + seconds(ctx);
    }

    /**
     * Waits until DS has brought up every component it is about to ({@link ComponentWait}): the
     * godwit commands appear one component at a time, and {@code migrate} only after the
     * coordinator's service. Components that stay pending do not stop the script: they are
     * logged, and a command they would provide is "not found". Used by the daemon too, before
     * it says it is ready.
     */
    static void awaitComponents(HostRunner.Context ctx) throws InterruptedException {
        try {
            List<String> pending = ComponentWait.pending(ComponentWait.components(ctx.host().context()));
            if (pending.isEmpty()) {
                return;
            }
            ctx.log().info("waiting for components to come up: " + pending);
            long started = System.nanoTime();
            pending = ComponentWait.await(ctx.host().context(), ctx.waitMillis());
            if (pending.isEmpty()) {
                ctx.log().info("components up after " + (System.nanoTime() - started) / 1_000_000 + " ms");
            } else {
                ctx.log().warn("components still coming up after " + seconds(ctx) + ", going on without: "
                        + pending, null);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            ctx.log().warn("cannot see which components are coming up; going on", e);
        }
    }

    static String seconds(HostRunner.Context ctx) {
        return ctx.waitMillis() / 1000 + " s";
    }
}
