package io.godwit.coordinator.internal;

import java.util.LinkedList;

/**
 * The sustained bandwidth, from bytes the destination acknowledged having received over the return
 * path (or, without one, bytes written). Acknowledged bytes are what arrived and was processed, so a
 * burst into kernel socket buffers does not inflate the figure the way QEMU's 100 ms write window
 * does (QEMU 7.2 overshot its downtime limit by up to 4x on this machine for that reason).
 *
 * <p>Samples come from one thread (return path or migration thread); readers may be any thread.
 */
final class Bandwidth {

    /** One rate per window this long; long enough to smooth socket-buffer bursts. */
    private static final long WINDOW_NANOS = 300_000_000L;
    private static final long MIN_BYTES = 64 << 10;
    /** The estimate is the slowest of the last few windows: the downtime is a promise. */
    private static final int WINDOWS = 3;

    private final double[] rates = new double[WINDOWS];
    private int filled;
    private int next;
    private long windowStartNanos = Long.MIN_VALUE;
    private long windowStartBytes;

    /** Records that {@code bytes} in total had arrived at time {@code nanos} (one clock for all samples). */
    synchronized void sample(long nanos, long bytes) {
        if (windowStartNanos == Long.MIN_VALUE) {
            windowStartNanos = nanos;
            windowStartBytes = bytes;
            return;
        }
        long dt = nanos - windowStartNanos;
        long db = bytes - windowStartBytes;
        if (dt >= WINDOW_NANOS) {
            if (db >= MIN_BYTES) {
                rates[next] = db * 1e9 / dt;
                next = (next + 1) % WINDOWS;
                filled = Math.min(WINDOWS, filled + 1);
            }
            windowStartNanos = nanos;
            windowStartBytes = bytes;
        }
    }

    /** Bytes per second: the slowest of the last windows, or 0 before the first full window. */
    synchronized double bytesPerSecond() {
        double min = 0;
        for (int i = 0; i < filled; i++) {
            min = i == 0 ? rates[i] : Math.min(min, rates[i]);
        }
        return min;
    }
}
