package io.godwit.coordinator.internal;

import java.util.ArrayDeque;

/**
 * The sustained bandwidth, from bytes the destination acknowledged having applied over the return
 * path (or, without one, bytes written). Acknowledged bytes are what arrived and was processed, so a
 * burst into kernel socket buffers does not inflate the figure the way QEMU's 100 ms write window
 * does (QEMU 7.2 overshot its downtime limit by up to 4x on this machine for that reason).
 *
 * <p>It must follow a link that degrades, within a second or two:
 * <ul>
 *   <li>A window measures the link only if the link was the bottleneck. One that carried less than
 *       {@link #MIN_BYTES} counts only if data waited for the link throughout (at least
 *       {@link #MIN_BYTES} unacknowledged at each of its samples): a trickle. One that carried little
 *       with nothing waiting only says the source had little to send.</li>
 *   <li>Where data waited at some samples only, the window's rate is the rate while it waited: the
 *       bytes acknowledged from a sample with data waiting to the next, over those intervals' time.
 *       A precopy of a small working set keeps the link busy for a few ms per pass and leaves it idle
 *       between passes; bytes over the whole window measured the passes' spacing (26 MB/s against
 *       the 1.8 GB/s its stop-and-copy then sent at), and held the switchover back for a second. A
 *       stop-and-copy keeps the link loaded throughout, so the loaded rate is the one it gets.
 *       Without data waiting at any sample (or without a return path, where that is unknown) it is
 *       the bytes over the whole window, as before.</li>
 *   <li>Windows age: the estimate is the slowest of the last {@value #WINDOWS} that closed within
 *       {@link #MAX_AGE_NANOS}, or the newest one when none is that recent (the link has not been
 *       measured since, so nothing says it changed).</li>
 *   <li>A link so slow that no acknowledgement comes (a destination stuck in one large frame) closes
 *       no window: while data waits and nothing was acknowledged for a window's time, what was
 *       acknowledged over the last {@link #STALL_SPAN_NANOS}, by our clock, bounds the rate.</li>
 *   <li>Multifd's channels are acknowledged as batches end; one slow channel holds its batch while the
 *       others wait at the round's SYNC, and nothing is applied meanwhile. What every channel read
 *       off its link, mid-batch ({@link #moved}), says the link is not stuck, and counts in that
 *       bound: counting only whole batches, it fell to half of what the channels moved.</li>
 * </ul>
 *
 * <p>Samples come from one thread (return path or migration thread); readers may be any thread.
 */
final class Bandwidth {

    /** One rate per window this long; long enough to smooth socket-buffer bursts. */
    private static final long WINDOW_NANOS = 300_000_000L;
    /** A window with less than this counts only if data waited throughout; in flight, "data waited". */
    static final long MIN_BYTES = 64 << 10;
    /** The estimate is the slowest of the last few windows: the downtime is a promise. */
    private static final int WINDOWS = 3;
    /** A window older than this (by the local clock) no longer counts once a newer one exists. */
    private static final long MAX_AGE_NANOS = 1_500_000_000L;
    /** The span of the stall bound, and how far back {@link #recent} reaches. */
    private static final long STALL_SPAN_NANOS = 1_000_000_000L;
    /** Spacing of {@link #recent}'s entries: at most a hundred per span. */
    private static final long RECENT_EVERY_NANOS = 10_000_000L;

    private final double[] rates = new double[WINDOWS];
    private final long[] closedNanos = new long[WINDOWS];
    private int filled;
    private int next;
    private boolean started;
    /** The open window: where it started by the destination's clock, and its bytes then. */
    private long startNanos;
    private long startBytes;
    /** Data waited for the link at every sample of the open window so far. */
    private boolean busy;
    /** The open window's intervals that began with data waiting: their time and bytes. */
    private long loadedNanos;
    private long loadedBytes;
    /** The previous sample: when, how much, and whether data waited then. */
    private long prevNanos;
    private long prevBytes;
    private boolean prevWaiting;
    private long lastBytes;
    /** What the links moved, at least {@link #lastBytes} once told ({@link #moved}). */
    private long lastMoved;
    private long lastLocalNanos;
    /** Acknowledged bytes by our clock, {local nanos, bytes}, oldest first, over the last span and one before. */
    private final ArrayDeque<long[]> recent = new ArrayDeque<>();

    /**
     * Records that {@code bytes} in total had arrived at time {@code nanos} (one clock for all of the
     * destination's samples), seen here at {@code localNanos}.
     *
     * @param waiting at least {@link #MIN_BYTES} were sent and not yet acknowledged (false when unknown)
     */
    synchronized void sample(long nanos, long bytes, long localNanos, boolean waiting) {
        lastBytes = Math.max(lastBytes, bytes);
        lastLocalNanos = localNanos;
        remember(localNanos);
        if (!started) {
            open(nanos, bytes, waiting);
            started = true;
            previous(nanos, bytes, waiting);
            return;
        }
        if (prevWaiting && nanos > prevNanos) {
            loadedNanos += nanos - prevNanos;
            loadedBytes += Math.max(0, bytes - prevBytes);
        }
        previous(nanos, bytes, waiting);
        busy &= waiting;
        long dt = nanos - startNanos;
        if (dt < WINDOW_NANOS) {
            return;
        }
        long db = bytes - startBytes;
        double rate = busy ? Math.max(0, db) * 1e9 / dt
                : loadedBytes >= MIN_BYTES ? loadedBytes * 1e9 / loadedNanos
                : db >= MIN_BYTES ? db * 1e9 / dt : -1;
        if (rate >= 0) {
            rates[next] = rate;
            closedNanos[next] = localNanos;
            next = (next + 1) % WINDOWS;
            filled = Math.min(WINDOWS, filled + 1);
        }
        open(nanos, bytes, waiting);
    }

    /**
     * The links moved {@code bytes} in total by now (multifd: the main stream applied and every data
     * channel's bytes read, a batch under way included), seen here at {@code localNanos}. Closes no
     * window; the stall bound counts it, and waits for it to stop.
     */
    synchronized void moved(long bytes, long localNanos) {
        if (!started) {
            return;
        }
        lastMoved = Math.max(lastMoved, bytes);
        lastLocalNanos = localNanos;
        remember(localNanos);
    }

    /** Bytes the destination has by now: applied, or moved where that is told. */
    private long progress() {
        return Math.max(lastBytes, lastMoved);
    }

    private void remember(long localNanos) {
        if (recent.isEmpty() || localNanos - recent.peekLast()[0] >= RECENT_EVERY_NANOS) {
            recent.addLast(new long[] {localNanos, progress()});
        } else {
            recent.peekLast()[1] = progress();
        }
        while (recent.size() > 1) { // drop the oldest while the next one still reaches a span back
            long[] oldest = recent.pollFirst();
            if (localNanos - recent.peekFirst()[0] < STALL_SPAN_NANOS) {
                recent.addFirst(oldest);
                break;
            }
        }
    }

    private void open(long nanos, long bytes, boolean waiting) {
        startNanos = nanos;
        startBytes = bytes;
        busy = waiting;
        loadedNanos = 0;
        loadedBytes = 0;
    }

    private void previous(long nanos, long bytes, boolean waiting) {
        prevNanos = nanos;
        prevBytes = bytes;
        prevWaiting = waiting;
    }

    /**
     * Bytes per second at {@code localNanos} (0 for a link that stalled), or -1 before anything was
     * measured.
     *
     * @param inFlight bytes sent and not yet acknowledged now (0 when unknown)
     */
    synchronized double bytesPerSecond(long localNanos, long inFlight) {
        double min = Double.MAX_VALUE;
        for (int i = 0; i < filled; i++) {
            if (localNanos - closedNanos[i] <= MAX_AGE_NANOS) {
                min = Math.min(min, rates[i]);
            }
        }
        if (min == Double.MAX_VALUE && filled > 0) {
            min = rates[(next + WINDOWS - 1) % WINDOWS]; // all aged: the newest, the link's last measure
        }
        if (started && inFlight >= MIN_BYTES && localNanos - lastLocalNanos >= WINDOW_NANOS) {
            min = Math.min(min, stalledRate(localNanos));
        }
        return min == Double.MAX_VALUE ? -1 : min;
    }

    /** What was acknowledged over the last span (or since the first sample), per second. */
    private double stalledRate(long localNanos) {
        long[] from = recent.peekFirst();
        for (long[] e : recent) {
            if (localNanos - e[0] < STALL_SPAN_NANOS) {
                break;
            }
            from = e;
        }
        return (progress() - from[1]) * 1e9 / Math.max(1, localNanos - from[0]);
    }
}
