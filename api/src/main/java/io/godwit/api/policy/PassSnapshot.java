package io.godwit.api.policy;

/**
 * What a {@link ConvergencePolicy} sees after a sync.
 *
 * @param pass the sync count so far
 * @param pendingBytes RAM and iterative device state still to send
 * @param stopCopyFixedMs time the stop-and-copy phase costs besides pending data: final sync,
 *     device and CPU state, the destination's resume
 * @param bandwidthBytesPerSecond the sustained send rate, not inflated by socket buffer bursts
 * @param dirtyBytesPerSecond the guest's dirty rate
 * @param downtimeLimitMs the downtime-limit parameter
 * @param throttlePercent the current throttle
 * @param elapsedMs time since the migration started
 */
public record PassSnapshot(
        long pass,
        long pendingBytes,
        long stopCopyFixedMs,
        double bandwidthBytesPerSecond,
        double dirtyBytesPerSecond,
        long downtimeLimitMs,
        int throttlePercent,
        long elapsedMs) {

    /** Expected downtime if the VM stopped now. */
    public long expectedDowntimeMs() {
        if (bandwidthBytesPerSecond <= 0) {
            return Long.MAX_VALUE;
        }
        return stopCopyFixedMs + (long) Math.ceil(pendingBytes * 1000.0 / bandwidthBytesPerSecond);
    }
}
