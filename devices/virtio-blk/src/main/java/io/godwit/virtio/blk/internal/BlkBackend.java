package io.godwit.virtio.blk.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.virtio.common.internal.EventNotifier;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request loop of one virtio-blk queue on its I/O thread ({@code iothread-<vm>-<id>}), as
 * QEMU's virtio-blk: woken by the kick notifier, it pops a request, does the file I/O and writes the
 * data, the status and the used ring through the DMA path, which marks the VMM's DMA dirty log. A
 * stop lets the request being processed finish and then flushes the image (bdrv_drain_all at
 * vm_stop): every popped request is complete before device state is saved, and the ones left in the
 * avail ring are popped on the destination, so each completes exactly once.
 */
final class BlkBackend {

    private static final Logger LOG = LoggerFactory.getLogger(BlkBackend.class);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String threadName;
    private final GuestMemory mem;
    private final BlkLayout l;
    private final FileChannel image;
    private final EventNotifier kick;
    private final EventNotifier call;
    private final MemorySegment scratch = Arena.ofAuto().allocate(BlkLayout.BLOCK);
    private final MemorySegment small = Arena.ofAuto().allocate(16);
    private final MemorySegment index = Arena.ofAuto().allocate(2);
    private final ByteBuffer io = ByteBuffer.allocateDirect(BlkLayout.BLOCK);
    private int lastAvailIdx;
    private int lastUsedIdx;
    private Thread worker;
    private volatile boolean stopRequested;
    private volatile String broken;
    private volatile long requests;
    private volatile io.godwit.api.dirty.DirtyBitmap blockLog;

    BlkBackend(String threadName, GuestMemory mem, BlkLayout layout, FileChannel image, EventNotifier kick,
            EventNotifier call) {
        this.threadName = threadName;
        this.mem = mem;
        this.l = layout;
        this.image = image;
        this.kick = kick;
        this.call = call;
    }

    void start(int lastAvail) {
        lastAvailIdx = lastAvail & 0xffff;
        lastUsedIdx = load16(l.used() + 2);
        stopRequested = false;
        worker = Thread.ofPlatform().daemon().name(threadName).unstarted(this::loop);
        kick.setWaiter(worker);
        worker.start();
    }

    /** Drains and stops; returns the vring base. */
    int stop() {
        Thread w = worker;
        if (w != null) {
            stopRequested = true;
            LockSupport.unpark(w);
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while draining " + threadName);
            }
            kick.setWaiter(null);
            worker = null;
            try {
                image.force(false); // the destination opens the same image next
            } catch (IOException e) {
                broken = "flush failed: " + e.getMessage();
            }
        }
        return lastAvailIdx;
    }

    boolean running() {
        return worker != null;
    }

    /** Starts (a bitmap) or stops (null) marking the blocks each write touches, for copy-storage. */
    void setBlockLog(io.godwit.api.dirty.DirtyBitmap log) {
        blockLog = log;
    }

    boolean blockLogging() {
        return blockLog != null;
    }

    long requests() {
        return requests;
    }

    String broken() {
        return broken;
    }

    private void loop() {
        try {
            serve();
        } catch (GuestMemoryFault e) {
            fail("a descriptor points outside guest RAM: " + e.getMessage()); // virtio_error
        } catch (RuntimeException e) {
            // Never a thread that vanished with running() still true: the queue is broken, visibly
            // (info devices, vm_check).
            fail("I/O thread failed: " + e);
        }
    }

    private void serve() {
        while (!stopRequested && broken == null) {
            kick.consume();
            int done = 0;
            while (!stopRequested && broken == null && load16(l.avail() + 2) != lastAvailIdx) {
                handle();
                done++;
            }
            if (done > 0) {
                call.signal();
            } else {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
    }

    private void handle() {
        int head = load16(l.avail() + 4 + 2L * (lastAvailIdx % BlkLayout.QUEUE));
        if (head + 2 >= BlkLayout.QUEUE) {
            fail("head " + head + " out of range");
            return;
        }
        long hdr = descAddr(head);
        long data = descAddr(head + 1);
        long status = descAddr(head + 2);
        mem.dmaRead(hdr, small);
        int type = small.get(INT, 0);
        long block = small.get(LONG, 8) / (BlkLayout.BLOCK / 512);
        byte st = 0;
        try {
            if (block < 0 || block >= l.blocks()) {
                st = 1; // VIRTIO_BLK_S_IOERR
            } else if (type == BlkDriver.T_IN) {
                io.clear();
                image.read(io, block * BlkLayout.BLOCK);
                MemorySegment.copy(MemorySegment.ofBuffer(io.clear()), 0, scratch, 0, BlkLayout.BLOCK);
                mem.dmaWrite(data, scratch);
            } else if (type == BlkDriver.T_OUT) {
                mem.dmaRead(data, scratch);
                io.clear();
                MemorySegment.copy(scratch, 0, MemorySegment.ofBuffer(io), 0, BlkLayout.BLOCK);
                image.write(io, block * BlkLayout.BLOCK);
                io.godwit.api.dirty.DirtyBitmap log = blockLog;
                if (log != null) {
                    // After the data is in the image, as vhost logs after writing, and always an atomic
                    // OR (never DirtyBitmap.set's read-then-skip): ordered against the copier's
                    // clear-then-read, either the copier reads this write or the bit is set again.
                    log.orWord((int) (block >>> 6), 1L << block);
                }
            } else {
                st = 2; // VIRTIO_BLK_S_UNSUPP
            }
        } catch (IOException e) {
            st = 1;
        }
        small.set(ValueLayout.JAVA_BYTE, 0, st);
        mem.dmaWrite(status, small.asSlice(0, 1));
        long elem = l.used() + 4 + 8L * (lastUsedIdx % BlkLayout.QUEUE);
        small.set(INT, 0, head);
        small.set(INT, 4, type == BlkDriver.T_IN ? BlkLayout.BLOCK + 1 : 1);
        mem.dmaWrite(elem, small.asSlice(0, 8));
        lastUsedIdx = (lastUsedIdx + 1) & 0xffff;
        VarHandle.releaseFence();
        small.set(SHORT, 0, (short) lastUsedIdx);
        mem.dmaWrite(l.used() + 2, small.asSlice(0, 2));
        lastAvailIdx = (lastAvailIdx + 1) & 0xffff;
        requests++;
    }

    private long descAddr(int i) {
        mem.dmaRead(l.desc() + 16L * i, small);
        return small.get(LONG, 0);
    }

    private int load16(long gpa) {
        mem.dmaRead(gpa, index);
        VarHandle.acquireFence();
        return index.get(SHORT, 0) & 0xffff;
    }

    private void fail(String why) {
        broken = why;
        LOG.warn("{}: queue broken: {}", threadName, why);
    }
}
