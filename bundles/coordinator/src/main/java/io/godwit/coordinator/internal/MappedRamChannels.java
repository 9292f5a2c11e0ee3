package io.godwit.coordinator.internal;

import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Multifd into a file with mapped-ram (QEMU 9.0's file migration with multifd): there is no peer to
 * open data channels to, so the channels are threads ({@code mig-<vm>-mapped-<i>}) that write batches
 * of pages into the file at their fixed offsets, side by side, with positioned writes. The migration
 * thread still finds the zero pages and the runs, as for one channel, and hands each batch to the next
 * free thread; reading the pages out of guest RAM and into the file, the bulk of the work, is theirs.
 *
 * <p>{@link #sync} waits until every batch handed over is in the file. The migration calls it at the
 * end of every pass (QEMU's multifd sync): a page of the next pass is written at the same offset as
 * its older copy, and must never land first and then be overwritten by it. The bitmaps are written
 * after the last sync, so they say what the file holds.
 */
final class MappedRamChannels implements AutoCloseable {

    private static final long POLL_MS = 100;

    /** One batch as {@link MappedRam#send} takes it; the arrays are the batch's own copies. */
    private record Job(int block, RamBatch batch, long[] runOffsets, int[] runPages, int runs) {}

    /** Ends a thread: never an interrupt, which would close the file under a positioned write. */
    private static final Job STOP = new Job(-1, null, null, null, 0);

    private final MappedRam mapped;
    private final java.util.List<io.godwit.api.memory.RamBlock> blocks;
    private final BlockingQueue<Job> work;
    private final Thread[] threads;
    /** Batches handed over and not yet written; guarded by this. */
    private int pending;
    private volatile String failure;

    MappedRamChannels(String vm, MappedRam mapped, java.util.List<io.godwit.api.memory.RamBlock> blocks, int channels) {
        this.mapped = mapped;
        this.blocks = blocks;
        this.work = new ArrayBlockingQueue<>(2 * channels); // enough to keep each busy, no more RAM held
        this.threads = new Thread[channels];
        for (int i = 0; i < channels; i++) {
            threads[i] = Thread.ofPlatform().name("mig-" + vm + "-mapped-" + i).daemon().start(this::run);
        }
    }

    /** Channels writing. */
    int channels() {
        return threads.length;
    }

    /**
     * Hands a batch to the next free thread. On the migration thread; waits while every thread is busy.
     *
     * @throws MigrationFailure when a write failed
     */
    void submit(int block, RamBatch batch, long[] runOffsets, int[] runPages, int runs) throws InterruptedException {
        check();
        Job job = new Job(block, batch, Arrays.copyOf(runOffsets, runs), Arrays.copyOf(runPages, runs), runs);
        synchronized (this) {
            pending++;
        }
        while (!work.offer(job, POLL_MS, TimeUnit.MILLISECONDS)) {
            check();
        }
    }

    /**
     * Returns once every batch handed over is written. On the migration thread.
     *
     * @throws MigrationFailure when a write failed
     */
    void sync() throws InterruptedException {
        synchronized (this) {
            while (pending > 0 && failure == null) {
                wait(POLL_MS);
            }
        }
        check();
    }

    private void check() {
        String f = failure;
        if (f != null) {
            throw new MigrationFailure(f);
        }
    }

    private void run() {
        try {
            while (true) {
                Job j = work.take();
                if (j == STOP) {
                    return;
                }
                try {
                    mapped.send(j.block(), blocks.get(j.block()), j.batch(), j.runOffsets(), j.runPages(), j.runs());
                } catch (IOException | RuntimeException e) {
                    failure = "writing pages into the file failed: " + e.getMessage();
                } finally {
                    synchronized (this) {
                        pending--;
                        notifyAll();
                    }
                }
            }
        } catch (InterruptedException e) {
            // the migration ended
        }
    }

    /** Stops the threads; a write under way finishes first (the file is the migration's to close). */
    @Override
    public void close() {
        work.clear(); // batches not yet written are of no use now
        for (int i = 0; i < threads.length; i++) {
            work.offer(STOP); // the queue holds two per thread: room for one each
        }
        for (Thread t : threads) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
