package io.godwit.coordinator.internal;

import io.godwit.api.policy.PassSnapshot;
import java.util.Locale;

/**
 * Notices a precopy that is not converging: its pending data has not shrunk below the smallest seen
 * so far (by a twentieth, so that noise is no progress) for {@code stall-passes} passes or
 * {@code stall-seconds} seconds. libvirt's {@code --timeout-postcopy} and {@code --timeout-suspend}
 * take a wall-clock timeout alone; pending data that still shrinks is worth waiting for, so a pass
 * that makes progress restarts both counts.
 *
 * <p>On the migration thread only.
 */
final class StallWatch {

    private static final double PROGRESS = 0.95;

    private long smallestPending = Long.MAX_VALUE;
    private long passesSince;
    private long sinceNanos = System.nanoTime();

    /** Records one pass; true when the migration has stalled (and stays so until pending data shrinks). */
    boolean stalled(PassSnapshot pass, long maxPasses, long maxSeconds) {
        long now = System.nanoTime();
        if (pass.pendingBytes() < smallestPending * PROGRESS) {
            smallestPending = pass.pendingBytes();
            passesSince = 0;
            sinceNanos = now;
            return false;
        }
        passesSince++;
        return passesSince >= maxPasses || now - sinceNanos >= maxSeconds * 1_000_000_000L;
    }

    /** {@code not converging: the guest dirties 1.2 GiB/s against a bandwidth of 900 MiB/s, 850 MiB left}. */
    static String describe(PassSnapshot pass) {
        return String.format(Locale.ROOT, "not converging: the guest dirties %s/s against a bandwidth of %s/s,"
                + " %s left (expected downtime %d ms, limit %d ms)", size(pass.dirtyBytesPerSecond()),
                size(pass.bandwidthBytesPerSecond()), size(pass.pendingBytes()), pass.expectedDowntimeMs(),
                pass.downtimeLimitMs());
    }

    private static String size(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    }
}
