package io.godwit.shell.internal;

import java.time.Duration;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Host commands that need no VM: {@code sleep} and {@code quit}. They do not depend on the kernel,
 * so they work while it is missing.
 *
 * <p>{@code sleep} is ours because Gogo's only {@code sleep} lives in gogo.jline (absent in the
 * launcher's {@code -c} mode) and takes whole seconds; {@link GodwitScope} makes this one win.
 */
@Component(
        service = HostCommands.class,
        property = {"osgi.command.scope=godwit", "osgi.command.function=sleep", "osgi.command.function=quit"})
public final class HostCommands {

    private final BundleContext context;

    @Activate
    public HostCommands(BundleContext context) {
        this.context = context;
    }

    @Descriptor("wait, e.g. to let a workload run in a script: sleep SECONDS (fractions allowed)")
    public void sleep(@Descriptor("seconds to wait, e.g. 2 or 0.5") String seconds) throws InterruptedException {
        Thread.sleep(duration(seconds));
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

    @Descriptor("stop the host: destroys every VM and stops the framework (QEMU's quit)")
    public void quit() throws BundleException {
        // Stopping the system bundle only starts the shutdown: the framework stops on a thread of its
        // own (OSGi Core, Framework.stop), so this command returns and its reply is sent first. The
        // monitor waits for running sessions before it goes away, so a monitor client gets its exit.
        context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).stop();
    }
}
