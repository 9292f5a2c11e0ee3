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

    /** Rate over at least this window; long enough to smooth socket-buffer bursts. */
    private static final long WINDOW_NANOS = 300_000_000L;
    private static final long MIN_BYTES = 64 << 10;

    private final LinkedList<long[]> samples = new LinkedList<>();
    private double bytesPerSecond;

    /** Records that {@code bytes} in total had arrived at time {@code nanos}. */
    synchronized void sample(long nanos, long bytes) {
        samples.addLast(new long[] {nanos, bytes});
        while (samples.size() > 2 && nanos - samples.get(1)[0] >= WINDOW_NANOS) {
            samples.removeFirst();
        }
        long[] first = samples.peekFirst();
        long dt = nanos - first[0];
        long db = bytes - first[1];
        if (dt >= WINDOW_NANOS && db >= MIN_BYTES) {
            bytesPerSecond = db * 1e9 / dt;
        }
    }

    /** Bytes per second, or 0 before there is a full window. */
    synchronized double bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Seeds an estimate (from a previous window) when no sample is good yet. */
    synchronized void seedIfEmpty(double estimate) {
        if (bytesPerSecond == 0) {
            bytesPerSecond = estimate;
        }
    }
}
