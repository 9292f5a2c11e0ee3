package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import io.godwit.wire.Frame;
import io.godwit.wire.FrameReader;
import io.godwit.wire.FrameType;
import io.godwit.wire.proto.ReturnMessage;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The source's end of the return path, on its own thread ({@code mig-<vm>-rp}): acknowledgements feed
 * the bandwidth estimate; an error, a completed load or the destination's resume time end the
 * migration's wait.
 */
final class ReturnPath implements Runnable {

    private final MigrationChannel channel;
    private final Bandwidth bandwidth;
    /** Bytes of the migration sent so far (the source's count, read on this thread). */
    private final java.util.function.LongSupplier sent;
    private final Thread thread;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final CountDownLatch pong = new CountDownLatch(1);

    private volatile long acked;
    private volatile String error;
    /** True when the error is the destination's own ERROR message, not something wrong with the path. */
    private volatile boolean destinationFailed;
    private volatile boolean loaded;
    private volatile long resumedMicros = -1;
    private volatile boolean closed;
    private volatile long minRttNanos = Long.MAX_VALUE;
    private volatile java.util.List<byte[]> memoryRegions;
    private volatile long postcopyRunningMicros = -1;
    /** When the destination had the whole stream (its clock, LOADED), or -1. */
    private volatile long loadedMicros = -1;
    /** Recovery: the destination's missing pages as it sends them, complete once RESUME_ACK came. */
    private io.godwit.api.dirty.DirtyBitmap recvBitmap;
    private final CountDownLatch resumeAck = new CountDownLatch(1);
    /** Postcopy: the pages the destination's guest faulted on, in the order asked. */
    private final java.util.concurrent.LinkedBlockingQueue<Long> requests = new java.util.concurrent.LinkedBlockingQueue<>();
    /** More outstanding requests than this are a broken peer: a guest waits on a handful at a time. */
    private static final int MAX_REQUESTS = 1 << 20;
    private final Object ackLock = new Object();
    /** Send stamps of the PINGs not yet answered, oldest first; a PONG must echo one of them. */
    private final java.util.LinkedHashSet<Long> pings = new java.util.LinkedHashSet<>();
    private static final int MAX_PINGS = 256;

    ReturnPath(String vm, MigrationChannel channel, Bandwidth bandwidth, java.util.function.LongSupplier sent) {
        this.channel = channel;
        this.bandwidth = bandwidth;
        this.sent = sent;
        this.thread = Thread.ofPlatform().daemon().name("mig-" + vm + "-rp").unstarted(this);
    }

    void start() {
        thread.start();
    }

    @Override
    public void run() {
        FrameReader reader = new FrameReader(channel, 64 << 10);
        try {
            while (true) {
                Frame f = reader.next();
                if (f.type() != FrameType.RETURN) {
                    throw new IOException("unexpected " + f.type() + " frame on the return path");
                }
                handle(reader.readMessage(f, ReturnMessage.parser()));
                if (resumedMicros >= 0 || error != null) {
                    return;
                }
            }
        } catch (IOException e) {
            if (error == null && !closed && resumedMicros < 0) {
                error = "return path: " + e.getMessage();
            }
        } finally {
            closed = true;
            finished.countDown();
            pong.countDown();
            resumeAck.countDown();
            synchronized (ackLock) {
                ackLock.notifyAll();
            }
        }
    }

    private void handle(ReturnMessage m) {
        switch (m.getKind()) {
            case ACK -> ack(m);
            case ERROR -> {
                error = m.getError().isEmpty() ? "the destination failed" : m.getError();
                destinationFailed = true;
            }
            case LOADED -> {
                loaded = true;
                loadedMicros = m.getTimeMicros() > 0 ? m.getTimeMicros() : -1; // 0: a source before the field
            }
            case MEMORY_REGISTERED -> memoryRegions = m.getMemoryRegionsList().stream()
                    .map(com.google.protobuf.ByteString::toByteArray).toList();
            // Resumed whatever its clock says: a negative time would read as "not resumed" (-1).
            case RESUMED -> resumedMicros = Math.max(0, m.getTimeMicros());
            case POSTCOPY_RUNNING -> postcopyRunningMicros = m.getTimeMicros();
            case RECV_BITMAP -> recvBitmap(m);
            case RESUME_ACK -> {
                if (recvBitmap == null) {
                    error = "return path: RESUME_ACK without a recovery";
                    return;
                }
                resumeAck.countDown();
            }
            case REQ_PAGES -> {
                if (requests.size() + m.getPagesCount() > MAX_REQUESTS) {
                    error = "return path: more than " + MAX_REQUESTS + " outstanding page requests";
                    return;
                }
                m.getPagesList().forEach(requests::add); // each checked against RAM where it is served
            }
            case PONG -> {
                // A PING carries its send time; the smallest round trip seen is the link's, the
                // larger ones include queueing behind pages in flight, which the estimate counts apart.
                // Only the stamp of a PING we sent is a round trip: a made-up one could be any, and a
                // first one of seconds would stall convergence until a real one came. It is ignored,
                // not an error: a healthy destination may answer a PING older than the ones kept.
                if (answered(m.getValue())) {
                    long rtt = System.nanoTime() - m.getValue();
                    if (rtt >= 0 && rtt < minRttNanos) {
                        minRttNanos = rtt;
                    }
                }
                if (m.getMonotonicNanos() != 0) {
                    ack(m);
                }
                pong.countDown();
            }
            // Our own finding, not the destination's word: the path is broken, and what the
            // destination did with the stream is unknown (it may run the guest).
            default -> error = "return path: unknown message kind " + m.getKindValue();
        }
    }

    /**
     * What the destination applied, by its own clock: the source's reader may be descheduled and read
     * several ACKs at once, which would make a rate from arrival times here burst far above the link.
     * Whether data was waiting for the link then tells a trickle from a source with little to send.
     */
    private void ack(ReturnMessage m) {
        long before;
        synchronized (ackLock) {
            before = acked;
            acked = Math.max(acked, m.getBytesReceived());
            ackLock.notifyAll();
        }
        long now = System.nanoTime();
        // With multifd (bytes_moved set) an ACK may come only because a channel read more of a batch:
        // the windows take what is applied, as it advances; what moved says the link is not stuck.
        if (m.getBytesMoved() == 0 || m.getBytesReceived() > before) {
            boolean waiting = sent.getAsLong() - m.getBytesReceived() >= Bandwidth.MIN_BYTES;
            bandwidth.sample(m.getMonotonicNanos(), m.getBytesReceived(), now, waiting);
        }
        if (m.getBytesMoved() != 0) {
            bandwidth.moved(m.getBytesMoved(), now);
        }
    }

    /** Records a PING's send stamp before it is sent. Keeps the last {@value #MAX_PINGS} unanswered ones. */
    void pingSent(long stamp) {
        synchronized (pings) {
            pings.add(stamp);
            if (pings.size() > MAX_PINGS) {
                pings.remove(pings.iterator().next());
            }
        }
    }

    private boolean answered(long stamp) {
        synchronized (pings) {
            return pings.remove(stamp);
        }
    }

    /** Waits up to {@code millis} until the destination acknowledged {@code bytes}; true when it has. */
    boolean awaitAcked(long bytes, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (ackLock) {
            long left;
            while (acked < bytes && !closed && (left = deadline - System.nanoTime()) > 0) {
                ackLock.wait(Math.max(1, left / 1_000_000));
            }
            return acked >= bytes;
        }
    }

    /** The destination's memory registration (one descriptor per RAM block), or null before it. */
    java.util.List<byte[]> memoryRegions() {
        return memoryRegions;
    }

    boolean closed() {
        return closed;
    }

    /** The smallest round trip measured so far, in ms (at least 1), or {@code fallback} before any. */
    long rttMillis(long fallback) {
        long n = minRttNanos;
        return n == Long.MAX_VALUE ? fallback : Math.max(1, n / 1_000_000);
    }

    long acked() {
        return acked;
    }

    /** The destination's error, or the return path's own failure, or null. */
    String error() {
        return error;
    }

    /** True when {@link #error} is what the destination said (an ERROR message) rather than a broken path. */
    boolean destinationFailed() {
        return destinationFailed;
    }

    boolean loaded() {
        return loaded;
    }

    /** Recovery: this return path will bring the destination's missing pages for a RAM of {@code pages}. */
    void expectRecvBitmap(long pages) {
        recvBitmap = new io.godwit.api.dirty.DirtyBitmap(pages);
    }

    /** One run of the destination's missing-page map, checked against RAM (a peer's words are hostile). */
    private void recvBitmap(ReturnMessage m) {
        io.godwit.api.dirty.DirtyBitmap map = recvBitmap;
        long words = map == null ? 0 : map.wordCount();
        if (map == null || resumeAck.getCount() == 0 || m.getFirstWord() < 0 || m.getFirstWord() >= words
                || m.getWordsCount() > words - m.getFirstWord()) {
            error = "return path: a missing-page map that does not fit (word " + m.getFirstWord() + ", "
                    + m.getWordsCount() + " words)";
            return;
        }
        for (int i = 0; i < m.getWordsCount(); i++) {
            long w = m.getFirstWord() + i;
            long beyond = map.pages() - w * 64; // pages of this word inside RAM
            long bits = beyond >= 64 ? m.getWords(i) : m.getWords(i) & ((1L << beyond) - 1);
            map.orWord((int) w, bits);
        }
    }

    /**
     * Recovery: waits for the destination's map of missing pages; null when it did not come in time
     * or the path broke.
     */
    io.godwit.api.dirty.DirtyBitmap awaitRecvBitmap(long millis) throws InterruptedException {
        boolean acked = resumeAck.await(millis, TimeUnit.MILLISECONDS);
        return acked && error == null ? recvBitmap : null;
    }

    /** Postcopy: when the destination started the guest (wall clock), or -1. */
    long postcopyRunningMicros() {
        return postcopyRunningMicros;
    }

    /** The next page the destination asked for, waiting up to the timeout; null when none came. */
    Long nextRequest(long timeout, TimeUnit unit) throws InterruptedException {
        return timeout <= 0 ? requests.poll() : requests.poll(timeout, unit);
    }

    long loadedMicros() {
        return loadedMicros;
    }

    long resumedMicros() {
        return resumedMicros;
    }

    boolean awaitPong(long millis) throws InterruptedException {
        return pong.await(millis, TimeUnit.MILLISECONDS) && !closed;
    }

    /** Waits until the destination resumed, failed, or the path closed. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }

    /** Marks the path closed on purpose (cancel or the end), so the read error is not a failure. */
    void close() {
        closed = true;
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }
}
