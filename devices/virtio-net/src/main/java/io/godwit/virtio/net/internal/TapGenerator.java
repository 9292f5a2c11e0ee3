package io.godwit.virtio.net.internal;

/**
 * The tap backend's packet source: packets numbered from 0 arriving at a steady rate, standing in for
 * a peer on the network. A packet not yet delivered waits in the tap (back-pressure, as a TCP peer
 * would slow down) rather than being dropped, so the guest must see every number exactly once and in
 * order. Its position migrates with the device (subsection {@code tap}) because the peer follows the
 * VM to its new host after the announce.
 *
 * <p>Used on the vhost worker thread only, and by save/load with the worker stopped.
 */
final class TapGenerator {

    private final long nanosPerPacket;
    private long nextSeq;
    private long startNanos;
    private long startSeq;
    private long announcements;

    TapGenerator(long packetsPerSecond) {
        this.nanosPerPacket = packetsPerSecond <= 0 ? Long.MAX_VALUE : 1_000_000_000L / packetsPerSecond;
    }

    /** (Re)starts the clock: packets that would have arrived while the VM was stopped are not owed. */
    void start() {
        startNanos = System.nanoTime();
        startSeq = nextSeq;
    }

    /** Nanoseconds until the next packet is due; 0 or less when one waits. */
    long nanosUntilNext(long now) {
        if (nanosPerPacket == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        return startNanos + (nextSeq - startSeq) * nanosPerPacket - now;
    }

    long nextSeq() {
        return nextSeq;
    }

    void delivered() {
        nextSeq++;
    }

    void setNextSeq(long seq) {
        this.nextSeq = seq;
    }

    /** A RARP from the VM's MAC: the peer now sends here (QEMU's qemu_announce_self). */
    void announce() {
        announcements++;
    }

    long announcements() {
        return announcements;
    }
}
