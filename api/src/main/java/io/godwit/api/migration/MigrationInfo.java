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
 * @param xbzrle QEMU's {@code xbzrle-cache} figures on the source, with capability xbzrle (since 1.3)
 * @param multifd the multifd channels' figures, or {@link MultifdInfo#NONE} without multifd
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
        long verifyRamMs,
        XbzrleStats xbzrle,
        MultifdInfo multifd) {

    public MigrationInfo {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(ram, "ram");
        Objects.requireNonNull(postcopy, "postcopy");
        Objects.requireNonNull(xbzrle, "xbzrle");
        Objects.requireNonNull(multifd, "multifd");
    }

    /** Without multifd. */
    public MigrationInfo(MigrationStatus status, long totalTimeMs, long setupTimeMs, long expectedDowntimeMs,
            long downtimeMs, long observedDowntimeMs, RamStats ram, int throttlePercent, String listenUri,
            String error, io.godwit.api.memory.PostcopyStats postcopy, String stall, long verifyRamMs,
            XbzrleStats xbzrle) {
        this(status, totalTimeMs, setupTimeMs, expectedDowntimeMs, downtimeMs, observedDowntimeMs, ram,
                throttlePercent, listenUri, error, postcopy, stall, verifyRamMs, xbzrle, MultifdInfo.NONE);
    }

    /** Without XBZRLE. */
    public MigrationInfo(MigrationStatus status, long totalTimeMs, long setupTimeMs, long expectedDowntimeMs,
            long downtimeMs, long observedDowntimeMs, RamStats ram, int throttlePercent, String listenUri,
            String error, io.godwit.api.memory.PostcopyStats postcopy, String stall, long verifyRamMs,
            MultifdInfo multifd) {
        this(status, totalTimeMs, setupTimeMs, expectedDowntimeMs, downtimeMs, observedDowntimeMs, ram,
                throttlePercent, listenUri, error, postcopy, stall, verifyRamMs, XbzrleStats.NONE, multifd);
    }

    /** Without XBZRLE and multifd (the 1.2 form). */
    public MigrationInfo(MigrationStatus status, long totalTimeMs, long setupTimeMs, long expectedDowntimeMs,
            long downtimeMs, long observedDowntimeMs, RamStats ram, int throttlePercent, String listenUri,
            String error, io.godwit.api.memory.PostcopyStats postcopy, String stall, long verifyRamMs) {
        this(status, totalTimeMs, setupTimeMs, expectedDowntimeMs, downtimeMs, observedDowntimeMs, ram,
                throttlePercent, listenUri, error, postcopy, stall, verifyRamMs, XbzrleStats.NONE, MultifdInfo.NONE);
    }

    /**
     * Multifd's figures (QEMU's {@code multifd-bytes}, and what its removed compression stats said).
     *
     * @param channels data channels beside the main one; 0 without multifd
     * @param compression none, zlib or zstd
     * @param bytes bytes carried by the data channels (QEMU's multifd-bytes)
     * @param pageBytes bytes of the normal pages they carried, as in guest memory
     * @param compressedBytes bytes those pages took on the channels, compressed (or raw where that was smaller)
     */
    public record MultifdInfo(int channels, String compression, long bytes, long pageBytes, long compressedBytes) {

        public static final MultifdInfo NONE = new MultifdInfo(0, "none", 0, 0, 0);

        /** Page bytes per byte on the wire; 1 without compression, 0 before any page went. */
        public double compressionRatio() {
            return compressedBytes == 0 ? 0 : (double) pageBytes / compressedBytes;
        }
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

    /**
     * QEMU's {@code xbzrle-cache} ({@code XBZRLECacheStats}).
     *
     * @param cacheSize the cache's size in bytes; 0 when XBZRLE is off
     * @param bytes bytes of deltas sent
     * @param pages pages sent as deltas
     * @param cacheMiss pages looked up in the cache and not found (sent whole, then cached)
     * @param cacheMissRate cache misses per page looked up, 0 to 1
     * @param encodingRate bytes of the pages sent as deltas per byte of their deltas
     * @param overflow pages whose delta would not have been smaller than the page (sent whole)
     */
    public record XbzrleStats(long cacheSize, long bytes, long pages, long cacheMiss, double cacheMissRate,
            double encodingRate, long overflow) {

        public static final XbzrleStats NONE = new XbzrleStats(0, 0, 0, 0, 0, 0, 0);
    }
}
