package io.godwit.virtio.net.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.virtio.common.internal.EventNotifier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vhost-net "kernel" side of one rx queue, with Linux's ioctl interface as methods. Its worker
 * thread ({@code vhost-<vm>-<id>}) takes packets from the tap, writes them into guest rx buffers and
 * the used ring through the raw mapping, bypassing the CPU tracker, and, with VHOST_F_LOG_ALL, logs
 * every page it wrote into the log set by VHOST_SET_LOG_BASE (vhost_log_write, log_used), data before
 * log bit.
 *
 * <p>The ioctls are called by the front end with the worker stopped, except SET_FEATURES and
 * SET_LOG_BASE, which the migration thread calls while it runs (they are volatile fields).
 */
final class VhostNet {

    static final long F_LOG_ALL = 1L << 26; // VHOST_F_LOG_ALL
    static final int DESC_F_WRITE = 2; // VRING_DESC_F_WRITE

    private static final Logger LOG = LoggerFactory.getLogger(VhostNet.class);
    private static final int BATCH = 64;

    private final String threadName;
    private final RawMemory ram;
    private final Layout layout;
    private final TapGenerator tap;
    /** Test-only: a backend that ignores VHOST_F_LOG_ALL, to prove the migration then corrupts. */
    private final boolean logWrites;
    private final byte[] packet = new byte[Layout.BUFFER_SIZE];

    private volatile long features;
    private volatile DirtyBitmap logBase;
    private EventNotifier kick;
    private EventNotifier call;
    private int lastAvailIdx;
    private int lastUsedIdx;
    private Thread worker;
    private volatile boolean stopRequested;
    private volatile String broken;
    private volatile long packets;
    private volatile long loggedPages;

    VhostNet(String threadName, RawMemory ram, Layout layout, TapGenerator tap, boolean logWrites) {
        this.threadName = threadName;
        this.ram = ram;
        this.layout = layout;
        this.tap = tap;
        this.logWrites = logWrites;
    }

    /** VHOST_SET_FEATURES: LOG_ALL needs a log base (vhost_log_access_ok). */
    void setFeatures(long f) {
        if ((f & F_LOG_ALL) != 0 && logBase == null) {
            throw new IllegalStateException("VHOST_F_LOG_ALL without a log base");
        }
        features = f;
    }

    /** VHOST_SET_LOG_BASE: one bit per 4 KiB guest page; null drops it. */
    void setLogBase(DirtyBitmap log) {
        logBase = log;
    }

    long features() {
        return features;
    }

    void setVringKick(EventNotifier k) {
        kick = k;
    }

    void setVringCall(EventNotifier c) {
        call = c;
    }

    /** VHOST_SET_VRING_BASE: where the device goes on in the avail ring. */
    void setVringBase(int lastAvail) {
        requireStopped();
        lastAvailIdx = lastAvail & 0xffff;
    }

    /** VHOST_GET_VRING_BASE: stops the queue and says where it stopped. */
    int getVringBase() {
        stop();
        return lastAvailIdx;
    }

    /** VHOST_NET_SET_BACKEND: attach the tap and start the worker. */
    void start() {
        requireStopped();
        // vhost_vq_init_access: the used index comes from guest memory, not from the front end.
        lastUsedIdx = ram.load16(layout.used() + 2);
        stopRequested = false;
        tap.start();
        worker = Thread.ofPlatform().daemon().name(threadName).unstarted(this::loop);
        kick.setWaiter(worker);
        worker.start();
    }

    void stop() {
        Thread w = worker;
        if (w == null) {
            return;
        }
        stopRequested = true;
        LockSupport.unpark(w);
        try {
            w.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping " + threadName);
        }
        kick.setWaiter(null);
        worker = null;
    }

    boolean running() {
        return worker != null;
    }

    private void requireStopped() {
        if (worker != null) {
            throw new IllegalStateException("the vhost queue is running");
        }
    }

    private void loop() {
        try {
            serve();
        } catch (RuntimeException e) {
            // A bug or a guest value nobody checked: the queue is broken (visible in info devices and
            // vm_check), never a thread that vanished with running() still true.
            fail("worker failed: " + e);
        }
    }

    private void serve() {
        while (!stopRequested && broken == null) {
            kick.consume();
            long wait = tap.nanosUntilNext(System.nanoTime());
            if (wait > 0) {
                LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(50)));
                continue;
            }
            int delivered = 0;
            while (delivered < BATCH && tap.nanosUntilNext(System.nanoTime()) <= 0 && deliverOne()) {
                delivered++;
            }
            if (delivered > 0) {
                call.signal();
            } else if (broken == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // no rx buffer: wait for a kick
            }
        }
    }

    /** handle_rx for one packet: false when the guest has no buffer posted. */
    private boolean deliverOne() {
        int availIdx = ram.load16(layout.avail() + 2);
        if (availIdx == lastAvailIdx) {
            return false;
        }
        int n = layout.queueSize();
        int head = ram.load16(layout.avail() + 4 + 2L * (lastAvailIdx % n));
        if (head >= n) {
            return fail("avail ring entry " + head + " out of range");
        }
        long d = layout.desc() + (long) head * Layout.DESC_SIZE;
        long addr = ram.load64(d);
        int len = ram.load32(d + 8);
        int flags = ram.load16(d + 12);
        int size = Packets.build(tap.nextSeq(), packet);
        if ((flags & DESC_F_WRITE) == 0 || len < size) {
            return fail("descriptor " + head + " is not a writable buffer of " + size + " bytes");
        }
        if (!ram.contains(addr, size)) {
            return fail(String.format("descriptor %d buffer 0x%x (%d bytes) is outside guest RAM", head, addr, size));
        }
        ram.copyIn(addr, packet, size);
        logWrite(addr, size);
        long elem = layout.used() + 4 + 8L * (lastUsedIdx % n);
        ram.store32(elem, head);
        ram.store32(elem + 4, size);
        logWrite(elem, 8);
        lastUsedIdx = (lastUsedIdx + 1) & 0xffff;
        ram.store16Release(layout.used() + 2, lastUsedIdx);
        logWrite(layout.used() + 2, 2);
        lastAvailIdx = (lastAvailIdx + 1) & 0xffff;
        tap.delivered();
        packets++;
        return true;
    }

    /** vhost_log_write: the data is visible before its log bit (the smp_wmb in log_write). */
    private void logWrite(long gpa, int len) {
        // Features before the base: the front end sets the base before LOG_ALL, so seeing the bit
        // means seeing the base (both volatile).
        if ((features & F_LOG_ALL) == 0 || !logWrites) {
            return;
        }
        DirtyBitmap log = logBase;
        if (log == null) {
            return;
        }
        java.lang.invoke.VarHandle.releaseFence();
        log.setRange(gpa >>> 12, ((gpa + len - 1) >>> 12) + 1);
        loggedPages++;
    }

    private boolean fail(String why) {
        broken = why;
        LOG.warn("{}: queue broken: {}", threadName, why);
        return false;
    }

    int lastUsedIdx() {
        return lastUsedIdx;
    }

    long packets() {
        return packets;
    }

    long loggedPages() {
        return loggedPages;
    }

    String broken() {
        return broken;
    }
}
