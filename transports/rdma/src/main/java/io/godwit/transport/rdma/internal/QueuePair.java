package io.godwit.transport.rdma.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

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

    /** Send queue depth: writes posted and not yet completed; a poster waits beyond it. */
    static final int SEND_QUEUE_DEPTH = 1024;
    private static final long PARK_NANOS = 50_000_000L;
    private static final AtomicInteger IDS = new AtomicInteger();

    private record Region(MemorySegment memory, String name) {}

    private record WorkRequest(long id, Region region, long offset, MemorySegment src) {}

    private final String name;
    private final Arena arena = Arena.ofShared();
    private final List<Region> regions = new ArrayList<>();
    /**
     * Lock-free handoffs between the migration thread and the HCA (one poster, one HCA): on a busy
     * two-core host a lock convoy or a wake-up per write costs more than the copy itself.
     */
    private final ConcurrentLinkedQueue<WorkRequest> sendQueue = new ConcurrentLinkedQueue<>();
    /** Completions, as pairs of (id, time it becomes visible), in order. */
    private final ConcurrentLinkedQueue<long[]> completionQueue = new ConcurrentLinkedQueue<>();
    private final Thread hca;
    private volatile LinkModel link = LinkModel.UNLIMITED;
    private volatile IOException error;
    private volatile boolean hcaParked;
    /** The id the poller waits for, and the poller: the HCA wakes it only then, not at every completion. */
    private volatile long awaited = Long.MAX_VALUE;
    private volatile Thread poller;
    private long posted;
    private long completed;
    private long linkFreeNanos;
    private boolean unmapping;
    /** The link's transfer time charged to the writes so far (written by the HCA only). */
    private volatile long pacedNanos;

    QueuePair(String name) {
        this.name = name;
        this.hca = Thread.ofPlatform().daemon().name("rdma-qp" + IDS.incrementAndGet() + "-hca").unstarted(this::run);
    }

    void link(LinkModel l) {
        this.link = l;
    }

    /**
     * Maps and pins a region the peer registered, at {@code real}, the path {@link MemoryRegistry#open}
     * checked (opened without following a link swapped in since); the HCA starts with the first one.
     */
    synchronized int attach(RegionDescriptor d, Path real) throws IOException {
        checkUsable();
        MemorySegment memory;
        try (FileChannel file = FileChannel.open(real, StandardOpenOption.READ, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            if (file.size() != d.length()) {
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

    /** The transfer time the link model charged to the writes executed so far, in ns (0 on an unlimited link). */
    long pacedNanos() {
        return pacedNanos;
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
        while (posted - completed >= SEND_QUEUE_DEPTH) {
            poll(posted - SEND_QUEUE_DEPTH + 1, PARK_NANOS);
        }
        WorkRequest wr = new WorkRequest(++posted, r, offset, src);
        sendQueue.add(wr);
        if (hcaParked) {
            LockSupport.unpark(hca);
        }
        return wr.id();
    }

    /** ibv_poll_cq: the last completed id, waiting up to {@code timeoutNanos} for it to reach {@code wanted}. */
    long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            long now = System.nanoTime();
            long[] c;
            while ((c = completionQueue.peek()) != null && c[1] <= now) {
                completed = c[0];
                completionQueue.poll();
            }
            if (completed >= wanted) {
                return completed;
            }
            checkUsable();
            long left = deadline - now;
            if (left <= 0) {
                return completed;
            }
            poller = Thread.currentThread();
            awaited = wanted; // published before the queue is looked at again: the HCA wakes us or we see it
            long[] head = completionQueue.peek();
            now = System.nanoTime();
            if (head == null || head[1] > now) {
                LockSupport.parkNanos(this, head == null ? left : Math.min(left, head[1] - now));
            }
            awaited = Long.MAX_VALUE;
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private void run() {
        try {
            while (error == null) {
                WorkRequest wr = sendQueue.poll();
                if (wr != null) {
                    execute(wr);
                    continue;
                }
                hcaParked = true;
                if (sendQueue.isEmpty() && error == null) {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
                hcaParked = false;
                if (Thread.interrupted()) {
                    throw new InterruptedException();
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
            long transfer = (long) (wr.src().byteSize() * 1e9 / l.bytesPerSecond());
            linkFreeNanos = begin + transfer;
            pacedNanos += transfer;
            while ((done = System.nanoTime()) < linkFreeNanos) {
                LockSupport.parkNanos(linkFreeNanos - done);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        }
        completionQueue.add(new long[] {wr.id(), done + l.latencyNanos()});
        if (wr.id() >= awaited) {
            LockSupport.unpark(poller);
        }
    }

    private void fail(IOException e) {
        if (error == null) {
            error = e;
        }
        Thread p = poller;
        if (p != null) {
            LockSupport.unpark(p);
        }
    }

    private void checkUsable() throws IOException {
        IOException e = error;
        if (e != null) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void unmapAfterHca() {
        boolean interrupted = false;
        while (hca.isAlive()) {
            try {
                hca.join();
            } catch (InterruptedException e) {
                interrupted = true; // the arena must still be closed
            }
        }
        arena.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Moves to the error state, stops the HCA, then unmaps the regions (now, or once the HCA is gone). */
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
            if (unmapping) {
                return;
            }
            unmapping = true;
            if (!hca.isAlive() && regions.isEmpty()) {
                arena.close();
                return;
            }
            // Never while the HCA might still copy into a mapping: the unmap thread waits for it, however
            // long that takes. Unmapping a populated GiB takes tens of ms: off the migration's path.
            regions.clear();
            Thread.ofPlatform().daemon().name(hca.getName().replace("-hca", "-unmap")).start(this::unmapAfterHca);
        }
    }
}
