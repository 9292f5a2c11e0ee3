package io.godwit.virtio.blk.internal;

/**
 * The request queue in guest RAM: descriptors, avail ring, used ring, the driver's state, its table of
 * block generations, one page of request headers and status bytes, then one 4 KiB data buffer per
 * request slot. Each slot is a chain of three descriptors: header (device reads), data, status
 * (device writes).
 */
record BlkLayout(long base, int slots, long blocks) {

    static final int PAGE = 4096;
    static final int BLOCK = 4096;
    static final int QUEUE = 32;
    static final int MAX_SLOTS = QUEUE / 3;

    BlkLayout {
        if (slots < 1 || slots > MAX_SLOTS) {
            throw new IllegalArgumentException("queue-depth must be 1 to " + MAX_SLOTS + ": " + slots);
        }
        if ((base & (PAGE - 1)) != 0 || base < 0) {
            throw new IllegalArgumentException("base must be page aligned");
        }
    }

    static long genPages(long blocks) {
        return (blocks * 8 + PAGE - 1) / PAGE;
    }

    static long size(int slots, long blocks) {
        return (5 + genPages(blocks)) * PAGE + (long) slots * BLOCK;
    }

    long size() {
        return size(slots, blocks);
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

    /** Per block: the generation of the last completed write (low 32 bits) and of one in flight (high). */
    long gen(long block) {
        return base + 4L * PAGE + block * 8;
    }

    long header(int slot) {
        return base + (4 + genPages(blocks)) * PAGE + 32L * slot;
    }

    long status(int slot) {
        return header(slot) + 16;
    }

    long data(int slot) {
        return base + (5 + genPages(blocks)) * PAGE + (long) slot * BLOCK;
    }
}
