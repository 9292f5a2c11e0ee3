package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;

/**
 * The live counters of one migration, written by its migration thread and read by {@code info
 * migrate} from any thread (volatile fields; each is written by one thread).
 */
final class MigrationStats {

    final long startNanos = System.nanoTime();
    volatile MigrationStatus status = MigrationStatus.SETUP;
    volatile long setupMs = -1;
    volatile long totalMs = -1;
    volatile long expectedDowntimeMs = -1;
    volatile long downtimeMs = -1;
    volatile long observedDowntimeMs = -1;
    volatile long transferred;
    volatile long remainingPages;
    volatile long totalBytes;
    volatile long duplicate;
    volatile long normal;
    volatile long syncCount;
    volatile long dirtyPagesRate;
    volatile double mbps;
    volatile long pagesPerSecond;
    volatile int throttle;
    /** Time stop-and-copy spent saving device state. */
    volatile long deviceSaveNanos;
    volatile String listenUri;
    volatile String error;
    /** Postcopy's figures: the destination's RAM (or null), and the requests the source served. */
    volatile io.godwit.api.memory.PostcopyRam postcopyRam;
    volatile long postcopyRequestsServed;
    /** Postcopy recoveries so far, and at the last one: the pages the destination missed, the pages sent before. */
    volatile long recoveries;
    volatile long missingAtRecovery;
    volatile long sentAtRecovery;
    /** verify-ram: time this side spent on page digests, in ns; -1 when off. */
    volatile long verifyNanos = -1;
    /** Why the precopy stopped converging, once it did. */
    volatile String stall;
    /** Each precopy pass as its closing sync saw it (outgoing only; the report's charts). */
    final java.util.List<io.godwit.api.migration.MigrationPass> passes = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** When the switchover stopped the guest (ms from the start, -1 before), and the bytes sent from then on. */
    volatile long switchoverMs = -1;
    volatile long switchoverBytes;
    volatile boolean postcopy;

    private long windowStart = startNanos;
    private long windowBytes;
    private long windowPages;

    long elapsedMs() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** QEMU's migration_update_counters: mbps and pages per second over the last ~100 ms. */
    void updateRates() {
        long now = System.nanoTime();
        long dt = now - windowStart;
        if (dt >= 100_000_000L) {
            long bytes = transferred;
            long pages = normal + duplicate;
            mbps = (bytes - windowBytes) * 8e3 / dt;
            pagesPerSecond = (long) ((pages - windowPages) * 1e9 / dt);
            windowStart = now;
            windowBytes = bytes;
            windowPages = pages;
        }
    }

    /** At completion QEMU reports mbps over the whole migration after setup. */
    void finalRates() {
        long ms = totalMs - Math.max(setupMs, 0);
        if (ms > 0) {
            mbps = transferred * 8.0 / ms / 1000.0;
            pagesPerSecond = (normal + duplicate) * 1000 / ms;
        }
    }

    MigrationInfo snapshot() {
        MigrationStatus s = status;
        long total = totalMs >= 0 ? totalMs : elapsedMs();
        var ram = new MigrationInfo.RamStats(transferred, remainingPages * 4096, totalBytes, duplicate, normal,
                normal * 4096, syncCount, dirtyPagesRate, mbps, pagesPerSecond);
        return new MigrationInfo(s, total, setupMs, s == MigrationStatus.ACTIVE ? expectedDowntimeMs : -1,
                downtimeMs, observedDowntimeMs, ram, throttle, listenUri, error, postcopy(), stall,
                verifyNanos < 0 ? -1 : verifyNanos / 1_000_000);
    }

    io.godwit.api.migration.MigrationHistory history() {
        return new io.godwit.api.migration.MigrationHistory(passes, switchoverMs, switchoverBytes, postcopy);
    }

    private io.godwit.api.memory.PostcopyStats postcopy() {
        io.godwit.api.memory.PostcopyRam pc = postcopyRam;
        if (pc != null) {
            return pc.stats();
        }
        long served = postcopyRequestsServed;
        return served == 0 ? io.godwit.api.memory.PostcopyStats.none()
                : new io.godwit.api.memory.PostcopyStats(served, 0, 0, java.util.List.of(), java.util.List.of(), -1, 0);
    }
}
