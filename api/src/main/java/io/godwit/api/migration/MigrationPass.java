package io.godwit.api.migration;

/**
 * One precopy pass of an outgoing migration, as recorded at the sync that ended it: what the
 * convergence policy saw then. Times are in ms from the {@code migrate} command.
 *
 * @param pass the pass number, from 1 (the first pass sends all of RAM)
 * @param startMs when the pass began
 * @param endMs when its closing sync was done
 * @param bytesSent bytes sent during the pass (the stream's and, over remote memory writes, the pages written)
 * @param dirtyBytesPerSecond the guest's dirty rate measured by the closing sync
 * @param bandwidthBytesPerSecond the sustained bandwidth to the destination at the end of the pass
 * @param expectedDowntimeMs the downtime a stop then would have cost; -1 when no bandwidth was known
 * @param downtimeLimitMs the {@code downtime-limit} parameter
 * @param throttlePercent the auto-converge throttle the guest ran under during the pass
 * @param remainingBytes dirty RAM left after the closing sync
 */
public record MigrationPass(
        long pass,
        long startMs,
        long endMs,
        long bytesSent,
        long dirtyBytesPerSecond,
        long bandwidthBytesPerSecond,
        long expectedDowntimeMs,
        long downtimeLimitMs,
        int throttlePercent,
        long remainingBytes) {}
