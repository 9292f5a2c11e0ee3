package io.godwit.virtio.common.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * An eventfd (QEMU's EventNotifier): a counter one side signals and the other consumes. The kick
 * notifier is the ioeventfd vhost waits on (VHOST_SET_VRING_KICK); the call notifier is the irqfd
 * that tells the guest (VHOST_SET_VRING_CALL).
 */
public final class EventNotifier {

    private final AtomicLong count = new AtomicLong();
    private volatile Thread waiter;

    /** Sets the thread {@link #signal} wakes (the vhost worker for a kick). */
    public void setWaiter(Thread t) {
        this.waiter = t;
    }

    public void signal() {
        count.incrementAndGet();
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Reads and resets the counter, as a read of an eventfd does. */
    public long consume() {
        return count.getAndSet(0);
    }
}
