package io.godwit.dirty.testkit;

import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Stand-in vCPUs for testing a tracker without a CPU backend: one thread per vCPU that calls the
 * tracker's hook with page numbers, in quanta, and a {@link VcpuRendezvous} with the kernel's
 * semantics (an action runs on the vCPU's own thread between two quanta, or on the caller's thread,
 * under the lock, while the vCPU is parked or pausing between quanta).
 *
 * <p>Hooks are installed and removed through the rendezvous, as the kernel does. Every method except
 * the hooks' own calls is for the test's thread.
 *
 * <p>vCPUs with an even index cache the hook's answers as the kernel's store window does
 * ({@link WriteHook#onWriteCacheable}): a page the hook said was cacheable is not passed to it again
 * until the vCPU's next rendezvous action. Odd vCPUs call {@code onWrite} on every store, as the kernel
 * does for a store across two pages. So the kit's tests with two or more vCPUs check both paths, and
 * their mix on the same pages.
 */
public final class KitVcpus implements VcpuRendezvous, AutoCloseable {

    /** One quantum of a running vCPU: calls {@code hook} for some pages and returns. */
    @FunctionalInterface
    public interface Quantum {
        void run(int vcpu, WriteHook hook);
    }

    private final Object lock = new Object();
    private final Worker[] workers;
    // Guarded by lock:
    private Quantum quantum;
    private long pauseNanos;
    private boolean running;
    private boolean closed;

    public KitVcpus(int count, String name) {
        workers = new Worker[count];
        for (int i = 0; i < count; i++) {
            workers[i] = new Worker(i);
            workers[i].thread = Thread.ofPlatform().daemon().name(name + "-vcpu-" + i).start(workers[i]);
        }
    }

    public int size() {
        return workers.length;
    }

    /** Installs each vCPU's hook of {@code log} on its own thread (logging on). */
    public void install(DirtyLog log) throws InterruptedException {
        onEachVcpu(i -> workers[i].hook = i % 2 == 0 ? new CachingPath(log.hook(i)) : log.hook(i));
    }

    /** Removes the hooks (logging off). */
    public void uninstall() throws InterruptedException {
        onEachVcpu(i -> workers[i].hook = null);
    }

    /**
     * Lets every vCPU run {@code q} quantum after quantum, pausing {@code pauseNanos} between two
     * (parked during the pause, like the kernel's throttle), until {@link #park}.
     */
    public void run(Quantum q, long pauseNanos) {
        synchronized (lock) {
            this.quantum = q;
            this.pauseNanos = pauseNanos;
            this.running = true;
            lock.notifyAll();
        }
    }

    /** Stops every vCPU at its next quantum boundary and waits until all are parked. */
    public void park() throws InterruptedException {
        synchronized (lock) {
            running = false;
            lock.notifyAll();
            while (!allParkedLocked()) {
                lock.wait();
            }
        }
    }

    /**
     * Runs {@code action(hook)} on vCPU {@code vcpu}'s thread (parked or not) and waits for it; a vCPU
     * that was parked is parked again when this returns.
     */
    public void on(int vcpu, java.util.function.Consumer<WriteHook> action) throws InterruptedException {
        Worker w = workers[vcpu];
        CountDownLatch done = new CountDownLatch(1);
        RuntimeException[] failure = new RuntimeException[1];
        synchronized (lock) {
            w.tasks.add(() -> {
                try {
                    action.accept(w.hook);
                } catch (RuntimeException e) {
                    failure[0] = e;
                } finally {
                    done.countDown();
                }
            });
            lock.notifyAll();
        }
        done.await();
        synchronized (lock) {
            while (!running && !closed && !w.parked) {
                lock.wait(); // back to parked before we return, as it was
            }
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    @Override
    public void onEachVcpu(IntConsumer action) throws InterruptedException {
        CountDownLatch done;
        synchronized (lock) {
            List<Worker> busy = new ArrayList<>();
            for (Worker w : workers) {
                if (w.parked) {
                    w.kicked(action); // parked: it cannot call its hook while we hold the lock
                } else {
                    busy.add(w);
                }
            }
            done = new CountDownLatch(busy.size());
            for (Worker w : busy) {
                w.tasks.add(() -> {
                    try {
                        w.kicked(action);
                    } finally {
                        done.countDown();
                    }
                });
            }
            lock.notifyAll();
        }
        done.await();
    }

    private boolean allParkedLocked() {
        for (Worker w : workers) {
            if (!w.parked) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws InterruptedException {
        synchronized (lock) {
            closed = true;
            running = false;
            lock.notifyAll();
        }
        for (Worker w : workers) {
            w.thread.join(5000);
        }
    }

    private final class Worker implements Runnable {
        final int index;
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        Thread thread;
        WriteHook hook; // plain: changed only on this thread or while parked, through the rendezvous
        boolean parked = true; // guarded by lock

        Worker(int index) {
            this.index = index;
        }

        /** A rendezvous action: the vCPU forgets its cached answers first, as the kernel's does. */
        void kicked(IntConsumer action) {
            if (hook instanceof CachingPath c) {
                c.forget();
            }
            action.accept(index);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    Runnable task = null;
                    Quantum q = null;
                    long pause;
                    synchronized (lock) {
                        while (true) {
                            if (!tasks.isEmpty()) {
                                task = tasks.poll();
                                parked = false; // an on() task runs here: not parked meanwhile
                                break;
                            }
                            if (closed) {
                                parked = true;
                                lock.notifyAll();
                                return;
                            }
                            if (running) {
                                parked = false;
                                q = quantum;
                                break;
                            }
                            parked = true;
                            lock.notifyAll();
                            lock.wait();
                        }
                        pause = pauseNanos;
                    }
                    if (task != null) {
                        task.run();
                        continue;
                    }
                    q.run(index, hook);
                    if (pause > 0) {
                        pauseParked(pause);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Like the kernel's throttle: parked for {@code nanos} unless there is a task. */
        private void pauseParked(long nanos) throws InterruptedException {
            long deadline = System.nanoTime() + nanos;
            synchronized (lock) {
                parked = true;
                lock.notifyAll();
                long left;
                while ((left = deadline - System.nanoTime()) > 0 && running && tasks.isEmpty() && !closed) {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                }
            }
        }
    }

    /**
     * A CPU path that caches the hook's answer for one group of 64 pages, the way the kernel's store
     * window does for a run of pages: a store the answer covers does not reach the hook.
     */
    private static final class CachingPath implements WriteHook {
        private final WriteHook hook;
        private long group = -1;
        private long cacheable;

        CachingPath(WriteHook hook) {
            this.hook = hook;
        }

        @Override
        public void onWrite(long page) {
            if (page >>> 6 == group && (cacheable >>> (page & 63) & 1) != 0) {
                return;
            }
            cacheable = hook.onWriteCacheable(page);
            group = page >>> 6;
        }

        void forget() {
            group = -1;
        }
    }
}
