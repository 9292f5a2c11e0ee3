package io.godwit.dirty.common.internal;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tracker's own sync accounting, the same for every tracker: pages harvested, syncs, total and
 * longest sync time. Written by the migration thread, read by {@code info dirty} from any thread.
 */
public final class SyncTimes {

    private final AtomicLong harvested = new AtomicLong();
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();
    private final AtomicLong maxNanos = new AtomicLong();

    /** One sync that began at {@code startNanos} (System.nanoTime) and harvested {@code pages}. */
    public void record(long startNanos, long pages) {
        long dt = System.nanoTime() - startNanos;
        harvested.addAndGet(pages);
        syncs.incrementAndGet();
        nanos.addAndGet(dt);
        maxNanos.accumulateAndGet(dt, Math::max);
    }

    /** Adds the counters under the names {@code info dirty} shows (tracker-sync-*: the kernel's own sync-* cover every source). */
    public void putInto(Map<String, Long> stats) {
        stats.put("pages-harvested", harvested.get());
        stats.put("tracker-syncs", syncs.get());
        stats.put("tracker-sync-time-ns", nanos.get());
        stats.put("tracker-sync-max-ns", maxNanos.get());
    }
}
