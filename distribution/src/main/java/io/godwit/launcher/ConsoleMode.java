package io.godwit.launcher;

/**
 * No arguments: a host with the interactive Gogo console (gogo.jline). The console starts last,
 * after the godwit commands are registered, so the first line typed finds them. Leaving the
 * console (Ctrl-D, {@code exit}) or {@code quit} stops the framework and ends the process.
 * With {@code --monitor} the console host is reachable by {@code --connect} as well.
 */
final class ConsoleMode implements HostRunner.Mode {

    @Override
    public int run(HostRunner.Context ctx) throws Exception {
        long deadline = System.nanoTime() + ctx.waitMillis() * 1_000_000;
        if (ServiceWait.await(ctx.host().context(), ServiceWait.GODWIT_COMMANDS, ctx.waitMillis()) == null) {
            ctx.terminal().err().println("godwit: warning: the godwit shell did not start within "
                    + ScriptMode.seconds(ctx) + "; only gogo commands are available" + ctx.seeLog());
        }
        MonitorAddress monitor = ctx.options().monitor();
        if (monitor != null) {
            if (MonitorSocket.awaitBound(monitor, deadline)) {
                ctx.shutdown().deleteAtExit(monitor.path());
                ctx.terminal().out().println("godwit: host pid " + ctx.home().pid() + ", monitor " + monitor);
            } else {
                ctx.terminal().err().println("godwit: warning: the monitor " + monitor + " did not open" + ctx.seeLog());
            }
        }
        ctx.host().startConsole();
        ctx.host().awaitStop();
        return HostRunner.OK;
    }
}
