package io.godwit.shell.internal;

import java.time.Duration;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Host commands that need no VM: {@code sleep}, {@code quit} and {@code help}. They do not depend on
 * the kernel, so they work while it is missing.
 *
 * <p>{@code sleep} is ours because Gogo's only {@code sleep} lives in gogo.jline (absent in the
 * launcher's {@code -c} mode) and takes whole seconds; {@link GodwitScope} makes this one win.
 * {@code help} is ours so that {@code help stop} shows the {@code stop} that runs: gogo.command's
 * {@code felix:help} takes the first command of that name in a hash map, Felix's bundle stop or ours.
 */
@Component(
        service = HostCommands.class,
        property = {"osgi.command.scope=godwit", "osgi.command.function=sleep", "osgi.command.function=quit",
            "osgi.command.function=help"})
public final class HostCommands {

    private static final String SCOPE = "godwit:";
    /** What {@code help} passes on to Gogo: a command name, never a script. */
    private static final java.util.regex.Pattern COMMAND_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.*-]+(:[A-Za-z0-9_.*-]+)?");

    private final BundleContext context;

    @Activate
    public HostCommands(BundleContext context) {
        this.context = context;
    }

    @Descriptor("wait, e.g. to let a workload run in a script: sleep SECONDS (fractions allowed)")
    public void sleep(@Descriptor("SECONDS: how long to wait, e.g. 2 or 0.5") String... seconds) throws InterruptedException {
        // String... rather than String: a missing value is this one-line error, not Gogo's "Cannot coerce"
        Thread.sleep(duration(oneValue("sleep", "SECONDS", "sleep 2", seconds)));
    }

    /** The one value a command takes, or a one-line error naming it with an example. */
    static String oneValue(String command, String what, String example, String... args) {
        if (args.length == 0) {
            throw new IllegalArgumentException(command + " needs " + what + ", e.g. " + example);
        }
        if (args.length > 1) {
            throw new IllegalArgumentException(command + " takes one value, " + what + ", not " + args.length
                    + ": e.g. " + example);
        }
        return args[0];
    }

    static Duration duration(String seconds) {
        double s;
        try {
            s = Double.parseDouble(seconds.strip());
        } catch (NumberFormatException e) {
            s = Double.NaN;
        }
        if (!(s >= 0) || s > 1e9) { // also refuses NaN
            throw new IllegalArgumentException("invalid duration '" + seconds + "': use seconds, e.g. 2 or 0.5");
        }
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    @Descriptor("list the commands, or show one's usage: help [COMMAND]; a bare name is the command that runs"
            + " (godwit's before Gogo's: help stop is the VM's stop, help felix:stop the bundle's)")
    public Object help(@Descriptor("the session (Gogo passes it)") CommandSession session,
            @Descriptor("a command, e.g. stop or felix:stop") String... command) throws Exception {
        if (command.length == 0) {
            return session.execute("felix:help");
        }
        String name = command[0];
        if (command.length > 1 || !COMMAND_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("help takes one command name, e.g. help stop");
        }
        Object known = session.get(".commands");
        if (!name.contains(":") && known instanceof java.util.Collection<?> names && names.contains(SCOPE + name)) {
            name = SCOPE + name;
        }
        return session.execute("felix:help " + name);
    }

    @Descriptor("stop the host: destroys every VM and stops the framework (QEMU's quit)")
    public void quit() throws BundleException {
        // Stopping the system bundle only starts the shutdown: the framework stops on a thread of its
        // own (OSGi Core, Framework.stop), so this command returns and its reply is sent first. The
        // monitor waits for running sessions before it goes away, so a monitor client gets its exit.
        context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).stop();
    }
}
