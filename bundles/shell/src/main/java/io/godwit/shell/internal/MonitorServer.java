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
 * framework property {@code godwit.monitor} says where ({@code unix:/tmp/godwit-a.sock}; the launcher
 * sets it from {@code --monitor}). The configuration {@value #PID} ({@code etc/io.godwit.monitor.cfg},
 * {@code address = unix:PATH}) adds one more, which follows the file while the host runs: an edit
 * moves it, deleting the file closes it. Without either there is no monitor. Protocol: see
 * {@link MonitorSession} and {@link FrameWriter}.
 */
@Component(immediate = true, configurationPid = MonitorServer.PID,
        configurationPolicy = org.osgi.service.component.annotations.ConfigurationPolicy.OPTIONAL)
public final class MonitorServer {

    /** The configuration of the extra monitor, and so the file {@code etc/io.godwit.monitor.cfg}. */
    static final String PID = "io.godwit.monitor";

    /** Framework property naming the monitor's address, {@code unix:PATH}. */
    static final String PROPERTY = "godwit.monitor";

    /** How long a host that stops lets running monitor commands finish. */
    static final Duration DRAIN = Duration.ofSeconds(2);

    private static final Logger LOG = LoggerFactory.getLogger(MonitorServer.class);

    private final MonitorListener listener;
    private final CommandProcessor processor;
    /** The monitor of the configuration, and its address; guarded by this. */
    private MonitorListener configured;
    private String configuredAddress = "";

    public MonitorServer(CommandProcessor processor, BundleContext context) throws IOException {
        this(processor, context, java.util.Map.of());
    }

    @Activate
    public MonitorServer(@Reference CommandProcessor processor, BundleContext context, java.util.Map<String, Object> config)
            throws IOException {
        this.processor = processor;
        String address = context.getProperty(PROPERTY);
        if (address == null || address.isBlank()) {
            this.listener = null;
        } else {
            try {
                this.listener = new MonitorListener(socketPath(address), processor, DRAIN);
            } catch (IOException | IllegalArgumentException e) {
                // SCR logs the failed activation too, but where it logs depends on the launcher.
                LOG.error("no monitor: {}", e.getMessage());
                throw e;
            }
        }
        configure(config);
    }

    /**
     * The configuration changed: the extra monitor moves to its new address, or closes. A bad address
     * is logged in one line and leaves no extra monitor; the launcher's own is never touched.
     */
    @org.osgi.service.component.annotations.Modified
    synchronized void configure(java.util.Map<String, Object> config) {
        String address = String.valueOf(config.getOrDefault("address", "")).strip();
        if (address.equals(configuredAddress)) {
            return;
        }
        try {
            closeConfigured();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the old socket is closed; its sessions were cut short
        }
        configuredAddress = address;
        if (address.isEmpty()) {
            return;
        }
        try {
            configured = new MonitorListener(socketPath(address), processor, DRAIN);
            LOG.info("monitor from {}: {}", PID, address);
        } catch (IOException | IllegalArgumentException e) {
            LOG.error("{}: no monitor at {}: {}", PID, address, e.getMessage());
        }
    }

    private void closeConfigured() throws InterruptedException {
        if (configured != null) {
            configured.close();
            configured = null;
        }
    }

    @Deactivate
    synchronized void deactivate() throws InterruptedException {
        closeConfigured();
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
