package io.godwit.api.migration;

import java.util.Objects;

/**
 * One snapshot of a VM's migration, with QEMU's {@code query-migrate} fields. Times are in ms from
 * the {@code migrate} command; a time not known yet is -1.
 *
 * @param status the state
 * @param totalTimeMs time from start to completion, or so far
 * @param setupTimeMs time spent in setup
 * @param expectedDowntimeMs the current downtime estimate, while active
 * @param downtimeMs source-side downtime: from vCPU stop to the last byte sent
 * @param observedDowntimeMs guest-observed downtime: source vCPU stop to destination resume
 * @param ram the RAM counters
 * @param throttlePercent the current auto-converge throttle
 * @param listenUri the URI an incoming migration listens on, with its real port, or null
 * @param error why the migration failed, or null
 * @param postcopy postcopy's figures on the destination (requests, blocked time, fault latency); on
 *     the source only the requests it served are counted
 * @param stall why the precopy is not converging, once it stalled (see the {@code stall-action}
 *     parameter), or null
 * @param verifyRamMs with {@code verify-ram}, the time this side spent on its page digests (taken as
 *     pages are sent or loaded); -1 when off or not known yet
 */
public record MigrationInfo(
        MigrationStatus status,
        long totalTimeMs,
        long setupTimeMs,
        long expectedDowntimeMs,
        long downtimeMs,
        long observedDowntimeMs,
        RamStats ram,
        int throttlePercent,
        String listenUri,
        String error,
        io.godwit.api.memory.PostcopyStats postcopy,
        String stall,
        long verifyRamMs) {

    public MigrationInfo {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(ram, "ram");
        Objects.requireNonNull(postcopy, "postcopy");
    }

    /** A migration without postcopy (the 1.1 form). */
    public MigrationInfo(MigrationStatus status, long totalTimeMs, long setupTimeMs, long expectedDowntimeMs,
            long downtimeMs, long observedDowntimeMs, RamStats ram, int throttlePercent, String listenUri,
            String error) {
        this(status, totalTimeMs, setupTimeMs, expectedDowntimeMs, downtimeMs, observedDowntimeMs, ram,
                throttlePercent, listenUri, error, io.godwit.api.memory.PostcopyStats.none(), null, -1);
    }

    /** No migration has run. */
    public static MigrationInfo none() {
        return new MigrationInfo(MigrationStatus.NONE, -1, -1, -1, -1, -1, RamStats.EMPTY, 0, null, null);
    }

    /**
     * QEMU's {@code ram} counters.
     *
     * @param transferred bytes sent so far, headers included
     * @param remaining bytes of dirty pages still to send
     * @param total RAM size in bytes
     * @param duplicate zero pages sent as offsets only
     * @param normal pages sent with their bytes
     * @param normalBytes bytes of those pages
     * @param dirtySyncCount bitmap syncs so far: the pass count
     * @param dirtyPagesRate pages dirtied per second, from the last syncs
     * @param mbps throughput in Mbit/s
     * @param pagesPerSecond pages sent per second
     * @param precopyBytes of {@code transferred}, the bytes sent before the switchover stopped the
     *     guest (QEMU's {@code precopy-bytes})
     * @param downtimeBytes of {@code transferred}, the bytes sent in the stop-and-copy, the guest
     *     stopped (QEMU's {@code downtime-bytes})
     * @param postcopyBytes of {@code transferred}, the bytes sent from postcopy's stop on (QEMU's
     *     {@code postcopy-bytes}); the three add up to {@code transferred} on the source, and are 0 on
     *     a destination
     * @param pageSize the target page size in bytes (QEMU's {@code page-size})
     */
    public record RamStats(
            long transferred,
            long remaining,
            long total,
            long duplicate,
            long normal,
            long normalBytes,
            long dirtySyncCount,
            long dirtyPagesRate,
            double mbps,
            long pagesPerSecond,
            long precopyBytes,
            long downtimeBytes,
            long postcopyBytes,
            long pageSize) {

        /** The page size of every Godwit guest. */
        public static final long PAGE_SIZE = 4096;

        public static final RamStats EMPTY = new RamStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        /** Counters without the phase split (the 1.2 form): every byte counts as precopy. */
        public RamStats(long transferred, long remaining, long total, long duplicate, long normal, long normalBytes,
                long dirtySyncCount, long dirtyPagesRate, double mbps, long pagesPerSecond) {
            this(transferred, remaining, total, duplicate, normal, normalBytes, dirtySyncCount, dirtyPagesRate, mbps,
                    pagesPerSecond, transferred, 0, 0, PAGE_SIZE);
        }
    }
}
