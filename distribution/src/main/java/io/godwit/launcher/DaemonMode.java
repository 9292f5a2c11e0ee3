package io.godwit.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code --daemon --monitor unix:PATH}: a host without console, reachable through the monitor
 * socket that the shell bundle serves. It announces itself on one line once the socket is bound,
 * then runs until SIGTERM/SIGINT (the shutdown hook stops it) or until the framework stops
 * itself (the shell's {@code quit}).
 */
final class DaemonMode implements HostRunner.Mode {

    @Override
    public int run(HostRunner.Context ctx) throws Exception {
        long deadline = System.nanoTime() + ctx.waitMillis() * 1_000_000;
        MonitorAddress monitor = ctx.options().monitor();
        if (ServiceWait.await(ctx.host().context(), ServiceWait.GODWIT_COMMANDS, ctx.waitMillis()) == null) {
            ctx.terminal().err().println("Error: the godwit shell did not start within "
                    + ScriptMode.seconds(ctx) + ctx.seeLog());
            return HostRunner.FAILED;
        }
        // Ready means all the commands: a client that sees the ready line may migrate at once.
        ScriptMode.awaitComponents(ctx);
        if (!MonitorSocket.awaitBound(monitor, deadline)) {
            ctx.terminal().err().println("Error: the shell did not open the monitor " + monitor
                    + " within " + ScriptMode.seconds(ctx) + ctx.seeLog());
            return HostRunner.FAILED;
        }
        // A safety net: the shell removes its socket when it stops, but not if it failed midway.
        ctx.shutdown().deleteAtExit(monitor.path());
        String line = "godwit: host pid " + ctx.home().pid() + ", monitor " + monitor + ", log " + ctx.log().file();
        ctx.log().info(line);
        ctx.terminal().out().println(line);
        ctx.terminal().out().flush();
        Path readyFile = ctx.options().readyFile();
        if (readyFile != null) {
            ctx.shutdown().deleteAtExit(readyFile);
            writeAtomically(readyFile, ctx.home().pid() + "\n");
        }
        ctx.host().awaitStop();
        ctx.log().info("the framework stopped");
        return HostRunner.OK;
    }

    /** Write-then-rename, so that whoever polls for the file never reads it half written. */
    private static void writeAtomically(Path file, String content) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        Files.writeString(temp, content, StandardCharsets.UTF_8);
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
