package io.godwit.virtio.net.internal;

/**
 * Where the rx queue lives in guest RAM: one page each for the descriptor table and the avail ring
 * (written by the driver), the used ring (written by the device) and the driver's own state, then
 * the receive buffers. Separate pages keep device writes and driver writes apart, so a page the
 * device alone wrote reaches the destination only through the vhost log.
 */
record Layout(long base, int queueSize) {

    static final int PAGE = 4096;
    static final int BUFFER_SIZE = 2048;
    static final int DESC_SIZE = 16;
    /** Pages before the buffers: descriptors, avail, used, driver state. */
    static final int HEADER_PAGES = 4;

    Layout {
        if (queueSize < 2 || queueSize > 256 || Integer.bitCount(queueSize) != 1) {
            throw new IllegalArgumentException("queue-size must be a power of two from 2 to 256: " + queueSize);
        }
        if ((base & (PAGE - 1)) != 0 || base < 0) {
            throw new IllegalArgumentException("base must be page aligned: 0x" + Long.toHexString(base));
        }
    }

    /** Bytes the queue needs, from {@link #base}. */
    static long size(int queueSize) {
        return (long) HEADER_PAGES * PAGE + (long) queueSize * BUFFER_SIZE;
    }

    long size() {
        return size(queueSize);
    }

    long desc() {
        return base;
    }

    long avail() {
        return base + PAGE;
    }

    long used() {
        return base + 2L * PAGE;
    }

    long driverState() {
        return base + 3L * PAGE;
    }

    long buffer(int i) {
        return base + (long) HEADER_PAGES * PAGE + (long) i * BUFFER_SIZE;
    }
}
