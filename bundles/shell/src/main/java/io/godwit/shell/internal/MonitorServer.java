package io.godwit.shell.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitor socket for scripts, the analogue of QEMU's {@code -monitor unix:PATH,server}. The
 * framework property {@code godwit.monitor} says where ({@code unix:/tmp/godwit-a.sock}); without it
 * there is no monitor. Protocol: see {@link MonitorSession} and {@link FrameWriter}.
 */
@Component(immediate = true)
public final class MonitorServer {

    /** Framework property naming the monitor's address, {@code unix:PATH}. */
    static final String PROPERTY = "godwit.monitor";

    /** How long a host that stops lets running monitor commands finish. */
    static final Duration DRAIN = Duration.ofSeconds(2);

    private static final Logger LOG = LoggerFactory.getLogger(MonitorServer.class);

    private final MonitorListener listener;

    @Activate
    public MonitorServer(@Reference CommandProcessor processor, BundleContext context) throws IOException {
        String address = context.getProperty(PROPERTY);
        if (address == null || address.isBlank()) {
            this.listener = null;
            return;
        }
        try {
            this.listener = new MonitorListener(socketPath(address), processor, DRAIN);
        } catch (IOException | IllegalArgumentException e) {
            // SCR logs the failed activation too, but where it logs depends on the launcher.
            LOG.error("no monitor: {}", e.getMessage());
            throw e;
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        if (listener != null) {
            listener.close();
        }
    }

    /** The path of {@code unix:PATH}; other schemes are refused with a message that says so. */
    static Path socketPath(String address) {
        String a = address.strip();
        if (!a.startsWith("unix:") || a.length() == "unix:".length()) {
            throw new IllegalArgumentException(
                    PROPERTY + " must be unix:PATH, e.g. unix:/tmp/godwit-a.sock; got '" + address + "'");
        }
        return Path.of(a.substring("unix:".length()));
    }
}
