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
    /** Bytes sent so far on every channel of the migration (a postcopy recovery opens another). */
    volatile long transferred;
    /** QEMU's precopy-bytes, downtime-bytes and postcopy-bytes: {@link #transferred} split by phase. */
    volatile long precopyBytes;
    volatile long downtimeBytes;
    volatile long postcopyBytes;
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
    /** The channel's TLS session (protocol, cipher, peer), or null without TLS. */
    volatile String tls;
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
    /** XBZRLE: pages sent as deltas, pages found unchanged (not sent), and its cache's figures; null when off. */
    volatile long xbzrlePages;
    volatile long xbzrleUnchanged;
    volatile Xbzrle xbzrle;
    /** Multifd's live figures, or null without multifd. */
    volatile java.util.function.Supplier<MigrationInfo.MultifdInfo> multifd;
    /** Each precopy pass as its closing sync saw it (outgoing only; the report's charts). */
    final java.util.List<io.godwit.api.migration.MigrationPass> passes = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** When the switchover stopped the guest (ms from the start, -1 before), and the bytes sent from then on. */
    volatile long switchoverMs = -1;
    volatile long switchoverBytes;
    volatile boolean postcopy;

    /** Where {@link #sent} puts bytes: precopy until the switchover or postcopy stops the guest. */
    private Phase phase = Phase.PRECOPY;
    /** {@link #transferred} when the current channel opened. */
    private long channelBase;
    private long windowStart = startNanos;
    private long windowBytes;
    private long windowPages;

    /** Dirty pages taken care of: sent whole, as zero or as deltas, or found unchanged (XBZRLE). */
    long pagesHandled() {
        return normal + duplicate + xbzrlePages + xbzrleUnchanged;
    }

    private enum Phase { PRECOPY, DOWNTIME, POSTCOPY }

    /**
     * The current channel has carried {@code channelBytes} so far: what is new since the last call
     * counts for the phase the migration is in (QEMU's ram_transferred_add). Migration thread only.
     */
    void sent(long channelBytes) {
        long now = channelBase + channelBytes;
        long added = now - transferred;
        if (added <= 0) {
            return; // bytes that were staged when the guest stopped, counted then, not written yet
        }
        switch (phase) {
            case PRECOPY -> precopyBytes += added;
            case DOWNTIME -> downtimeBytes += added;
            case POSTCOPY -> postcopyBytes += added;
        }
        transferred = now;
    }

    /**
     * The guest stopped for the stop-and-copy ({@code postcopy} false) or for postcopy's start: what
     * the channel carried up to here, {@code channelBytes}, was precopy, what follows is not.
     */
    void guestStopped(boolean postcopy, long channelBytes) {
        sent(channelBytes);
        phase = postcopy ? Phase.POSTCOPY : Phase.DOWNTIME;
    }

    /** A new channel (postcopy recovery) counts from 0: its bytes add to what the old ones carried. */
    void newChannel() {
        channelBase = transferred;
    }

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
                normal * 4096, syncCount, dirtyPagesRate, mbps, pagesPerSecond, precopyBytes, downtimeBytes,
                postcopyBytes, MigrationInfo.RamStats.PAGE_SIZE);
        return new MigrationInfo(s, total, setupMs, s == MigrationStatus.ACTIVE ? expectedDowntimeMs : -1,
                downtimeMs, observedDowntimeMs, ram, throttle, listenUri, error, postcopy(), stall,
                verifyNanos < 0 ? -1 : verifyNanos / 1_000_000,
                xbzrle != null ? xbzrle.stats() : MigrationInfo.XbzrleStats.NONE, multifdInfo());
    }

    private MigrationInfo.MultifdInfo multifdInfo() {
        var m = multifd;
        return m == null ? MigrationInfo.MultifdInfo.NONE : m.get();
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
