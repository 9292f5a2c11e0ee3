package io.godwit.launcher;

import java.io.PrintStream;

import org.osgi.framework.ServiceReference;

/**
 * {@code -c "CMD; CMD"}: a fresh host runs one script and exits. It waits for the commands first
 * (DS registers them some time after the bundles start), runs the statements one by one and prints
 * what the Gogo console would print for each typed on its own line, and stops at the first failure
 * with one line {@code Error: <root cause>} on stderr and exit status 1.
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
        ctx.log().info("running script: " + ctx.options().script());
        // The real streams: Gogo's ThreadIO has replaced System.out/err with per-thread streams.
        try (GogoSession session = GogoSession.open(ctx.host().context(), processor,
                ctx.terminal().in(), out, err)) {
            // Statement by statement, printing each result as the console prints a line's result.
            for (String statement : session.statements(ctx.options().script())) {
                Object result = session.execute(statement);
                if (result != null) {
                    out.println(session.format(result));
                }
                out.flush();
            }
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

    /** Waits for the godwit shell, or for {@code --wait FILTER}; null when ready, else the problem. */
    private static String awaitCommands(HostRunner.Context ctx) throws Exception {
        Options options = ctx.options();
        if (options.noWait()) {
            return null;
        }
        String filter = options.waitFilter() != null ? options.waitFilter() : ServiceWait.GODWIT_COMMANDS;
        if (ServiceWait.await(ctx.host().context(), filter, ctx.waitMillis()) != null) {
            return null;
        }
        return options.waitFilter() != null
                ? "no service matching " + filter + " appeared within " + seconds(ctx)
                : "the godwit shell did not start within " + seconds(ctx);
    }

    static String seconds(HostRunner.Context ctx) {
        return ctx.waitMillis() / 1000 + " s";
    }
}
