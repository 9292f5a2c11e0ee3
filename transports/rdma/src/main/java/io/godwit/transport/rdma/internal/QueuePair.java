package io.godwit.transport.rdma.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The source's queue pair and the simulated HCA behind it. Attached regions are the destination's
 * registered shared files, mapped here and pinned. Posted writes wait in a bounded send queue; the
 * HCA thread ({@code rdma-qp<N>-hca}) takes them in order, checks them against the region, copies the
 * bytes straight into the mapping (the destination's guest RAM), paces them to the link's bandwidth
 * and puts a completion on the completion queue, visible after the link's latency.
 *
 * <p>Any failure, or {@link #close}, moves the queue pair to the error state, as a real QP does on a
 * broken connection: posting and polling then throw.
 */
final class QueuePair implements AutoCloseable {

    /** Send queue depth: work requests posted and not yet taken by the HCA. */
    static final int SEND_QUEUE_DEPTH = 64;
    private static final AtomicInteger IDS = new AtomicInteger();

    private record Region(MemorySegment memory, String name) {}

    private record WorkRequest(long id, Region region, long offset, MemorySegment src) {}

    private final String name;
    private final Arena arena = Arena.ofShared();
    private final List<Region> regions = new ArrayList<>();
    private final ArrayBlockingQueue<WorkRequest> sendQueue = new ArrayBlockingQueue<>(SEND_QUEUE_DEPTH);
    private final ReentrantLock cqLock = new ReentrantLock();
    private final Condition cqChanged = cqLock.newCondition();
    /** Completions not yet visible: pairs of (id, due time), in order. */
    private final ArrayDeque<long[]> inFlight = new ArrayDeque<>();
    private final Thread hca;
    private volatile LinkModel link = LinkModel.UNLIMITED;
    private volatile IOException error;
    private long posted;
    private long completed;
    private long linkFreeNanos;

    QueuePair(String name) {
        this.name = name;
        this.hca = Thread.ofPlatform().daemon().name("rdma-qp" + IDS.incrementAndGet() + "-hca").unstarted(this::run);
    }

    void link(LinkModel l) {
        this.link = l;
    }

    /** Maps and pins a region the peer registered; the HCA starts with the first one. */
    synchronized int attach(RegionDescriptor d) throws IOException {
        checkUsable();
        MemorySegment memory;
        try (FileChannel file = FileChannel.open(d.keyFile(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (file.size() < d.length()) {
                throw new IOException(name + ": region '" + d.name() + "' is " + file.size() + " bytes, registered as "
                        + d.length());
            }
            memory = file.map(FileChannel.MapMode.READ_WRITE, 0, d.length(), arena);
        } catch (NoSuchFileException e) {
            throw new IOException(name + ": remote key " + Long.toHexString(d.key()) + " of region '" + d.name()
                    + "' is not registered", e);
        }
        Native.populateWrite(memory); // the source side's page tables, built now rather than per write
        regions.add(new Region(memory, d.name()));
        if (hca.getState() == Thread.State.NEW) {
            hca.start();
        }
        return regions.size() - 1;
    }

    synchronized long regionSize(int region) {
        return regions.get(region).memory().byteSize();
    }

    /** ibv_post_send: queues one write, waiting while the send queue is full. */
    long post(int region, long offset, MemorySegment src) throws IOException, InterruptedException {
        Region r;
        synchronized (this) {
            checkUsable();
            if (region < 0 || region >= regions.size()) {
                throw new IOException(name + ": no attached region " + region);
            }
            r = regions.get(region);
        }
        long len = src.byteSize();
        if (offset < 0 || len < 0 || offset > r.memory().byteSize() - len) {
            throw new IOException(name + ": a write of " + len + " bytes at " + offset + " is outside region '"
                    + r.name() + "' of " + r.memory().byteSize() + " bytes");
        }
        WorkRequest wr = new WorkRequest(++posted, r, offset, src);
        while (!sendQueue.offer(wr, 50, TimeUnit.MILLISECONDS)) {
            checkUsable();
        }
        return wr.id();
    }

    /** ibv_poll_cq: the last completed id, waiting up to {@code timeoutNanos} for it to reach {@code wanted}. */
    long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        cqLock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                while (!inFlight.isEmpty() && inFlight.peek()[1] <= now) {
                    completed = inFlight.poll()[0];
                }
                if (completed >= wanted) {
                    return completed;
                }
                checkUsable();
                long left = deadline - now;
                if (left <= 0) {
                    return completed;
                }
                long wait = inFlight.isEmpty() ? left : Math.min(left, inFlight.peek()[1] - now);
                cqChanged.awaitNanos(Math.max(1, wait));
            }
        } finally {
            cqLock.unlock();
        }
    }

    private void run() {
        try {
            while (error == null) {
                WorkRequest wr = sendQueue.poll(100, TimeUnit.MILLISECONDS);
                if (wr != null) {
                    execute(wr);
                }
            }
        } catch (InterruptedException e) {
            fail(new IOException(name + ": queue pair closed"));
        } catch (RuntimeException e) {
            fail(new IOException(name + ": remote write failed: " + e, e));
        }
    }

    private void execute(WorkRequest wr) throws InterruptedException {
        long start = System.nanoTime();
        MemorySegment.copy(wr.src(), 0, wr.region().memory(), wr.offset(), wr.src().byteSize());
        long done = System.nanoTime();
        LinkModel l = link;
        if (l.bytesPerSecond() > 0) {
            // The link serializes the bytes: this write ends its transfer time after the previous one.
            long begin = Math.max(start, linkFreeNanos);
            linkFreeNanos = begin + (long) (wr.src().byteSize() * 1e9 / l.bytesPerSecond());
            while ((done = System.nanoTime()) < linkFreeNanos) {
                LockSupport.parkNanos(linkFreeNanos - done);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        }
        cqLock.lock();
        try {
            inFlight.add(new long[] {wr.id(), done + l.latencyNanos()});
            cqChanged.signalAll();
        } finally {
            cqLock.unlock();
        }
    }

    private void fail(IOException e) {
        if (error == null) {
            error = e;
        }
        cqLock.lock();
        try {
            cqChanged.signalAll();
        } finally {
            cqLock.unlock();
        }
    }

    private void checkUsable() throws IOException {
        IOException e = error;
        if (e != null) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Moves to the error state, stops the HCA, then unmaps the regions. */
    @Override
    public void close() {
        fail(new IOException(name + ": queue pair closed"));
        if (hca.isAlive()) {
            hca.interrupt();
            try {
                hca.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (!hca.isAlive() && arena.scope().isAlive()) {
                arena.close(); // never while the HCA might still copy into a mapping
            }
        }
    }
}
