package io.godwit.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Stops the host and removes what this process made, exactly once, whichever comes first: the
 * mode finishing normally, the framework stopping itself ({@code quit}), or SIGTERM/SIGINT through
 * the JVM shutdown hook. Without this a killed host would leave its Felix cache (tens of MB per
 * run) and a dead socket file behind.
 */
public final class Shutdown {

    private final HostHome home;
    private final HostLog log;
    private final List<Path> files = new ArrayList<>();
    private volatile Host host;
    private volatile boolean signalled;
    private boolean done;

    public Shutdown(HostHome home, HostLog log) {
        this.home = home;
        this.log = log;
    }

    /** Registers the JVM shutdown hook (a named thread, so it is recognisable in a thread dump). */
    public void install() {
        Thread hook = new Thread(() -> {
            signalled = true;
            run();
        }, "godwit-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The host to stop; set once it exists. */
    public void host(Host host) {
        this.host = host;
    }

    /** A file to delete at exit (the ready file, the monitor socket). */
    public synchronized void deleteAtExit(Path file) {
        files.add(file);
    }

    /** True once the JVM is shutting down because of a signal: the modes then stay quiet. */
    public boolean signalled() {
        return signalled;
    }

    /** Stops the framework, deletes {@code run/<pid>/} and the registered files. Idempotent. */
    public synchronized void run() {
        if (done) {
            return;
        }
        done = true;
        Host h = host;
        if (h != null) {
            h.stop();
        }
        for (Path file : files) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.warn("could not delete " + file, e);
            }
        }
        home.removeRunDir();
        log.info("host stopped" + (signalled ? " by a signal" : ""));
    }
}
