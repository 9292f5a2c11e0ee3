package io.godwit.launcher;

import java.io.PrintStream;
import java.util.Map;

/**
 * Turns a host that hangs while starting into an error. A bundle whose activator blocks (one
 * seen for real: FileInstall refreshing itself when a jar in deploy/ exports a package it imports
 * optionally, such as org.osgi.service.log) would otherwise leave {@code -c} or {@code --daemon}
 * waiting forever without a word. The watchdog writes every thread's stack to the log, prints one
 * line and exits with status 1; the shutdown hook still tries to stop the framework.
 */
final class StartWatchdog {

    private final Thread thread;

    private StartWatchdog(Thread thread) {
        this.thread = thread;
    }

    /** Starts watching; {@link #cancel()} once the host has started. */
    static StartWatchdog start(long timeoutMs, HostLog log, PrintStream err) {
        Thread thread = new Thread(() -> {
            try {
                Thread.sleep(timeoutMs);
            } catch (InterruptedException cancelled) {
                return;
            }
            log.warn("the host did not start within " + timeoutMs / 1000 + " s; threads follow", null);
            dumpThreads(log.stream());
            err.println("Error: the host did not finish starting within " + timeoutMs / 1000
                    + " s: a bundle blocks in its start (thread dump in " + log.file() + ")");
            System.exit(HostRunner.FAILED);
        }, "godwit-start-watchdog");
        thread.setDaemon(true);
        thread.start();
        return new StartWatchdog(thread);
    }

    void cancel() {
        thread.interrupt();
    }

    private static void dumpThreads(PrintStream out) {
        synchronized (out) {
            for (Map.Entry<Thread, StackTraceElement[]> entry : Thread.getAllStackTraces().entrySet()) {
                Thread t = entry.getKey();
                out.println("\"" + t.getName() + "\" " + t.getState());
                for (StackTraceElement frame : entry.getValue()) {
                    out.println("\tat " + frame);
                }
            }
        }
    }
}
