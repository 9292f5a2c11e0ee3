package io.godwit.kernel.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyLogSource;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One VM's dirty logging: the tracker's log plus every source, harvested by one sync (QEMU's
 * {@code migration_bitmap_sync} over {@code memory_global_dirty_log_sync}).
 *
 * <p>Hooks go in and out through the rendezvous, so each vCPU changes its own hook field at a
 * quantum boundary: no store can slip between "logging on" and its hook being seen.
 */
final class KernelDirtyLogging implements DirtyLogging {

    private final VcpuRendezvous rendezvous;
    private final VcpuRunner[] runners;
    private final WriteHook[] hooks;
    // Guarded by this: replaced when the tracker's bundle goes away (trackerRemoved).
    private String trackerName;
    private DirtyLog trackerLog;
    /** Why the current round of logging cannot be trusted any more, or null; cleared by stop(). */
    private String broken;
    private final List<DirtyLogSource> sources = new CopyOnWriteArrayList<>();
    private final AtomicLong syncCount = new AtomicLong();
    private final AtomicLong syncNanos = new AtomicLong();
    private volatile boolean active;

    KernelDirtyLogging(
            String trackerName, DirtyLog trackerLog, VcpuRendezvous rendezvous, VcpuRunner[] runners, DmaDirtyLog dma) {
        this.trackerName = trackerName;
        this.trackerLog = trackerLog;
        this.rendezvous = rendezvous;
        this.runners = runners;
        this.hooks = new WriteHook[runners.length];
        useTracker(trackerName, trackerLog);
        sources.add(dma);
    }

    private void useTracker(String name, DirtyLog log) {
        this.trackerName = name;
        this.trackerLog = log;
        for (int i = 0; i < runners.length; i++) {
            hooks[i] = log.hook(i);
        }
    }

    @Override
    public synchronized String trackerName() {
        return trackerName;
    }

    /**
     * The tracker's bundle is going away (called from the kernel's unbind, on the thread that stops
     * that bundle). Its hooks leave the vCPUs at once, since its code must not run any more, and the
     * VM goes on with {@code replacement}. Stores made from here until the next {@link #start} are
     * seen by nobody, so a round of logging that is on now is broken: its next {@link #sync} throws,
     * which fails the migration that uses it, and the source VM keeps running.
     */
    synchronized void trackerRemoved(String replacementName, DirtyLog replacement) throws InterruptedException {
        String gone = trackerName;
        if (active) {
            rendezvous.onEachVcpu(i -> runners[i].vcpuMemory().setHook(null));
            trackerLog.stop();
            broken = "dirty tracker '" + gone + "' was removed while logging was on; writes since are not tracked";
        }
        useTracker(replacementName, replacement);
    }
    @Override
    public synchronized void start() throws InterruptedException {
        if (active) {
            throw new IllegalStateException("dirty logging is already on");
        }
        trackerLog.start(rendezvous);
        rendezvous.onEachVcpu(i -> runners[i].vcpuMemory().setHook(hooks[i]));
        for (DirtyLogSource s : sources) {
            s.startLogging();
        }
        active = true;
    }

    @Override
    public boolean active() {
        return active;
    }

    @Override
    public synchronized long sync(DirtyBitmap target) throws InterruptedException {
        if (!active) {
            throw new IllegalStateException("dirty logging is off");
        }
        if (broken != null) {
            throw new IllegalStateException(broken);
        }
        long t0 = System.nanoTime();
        long pages = trackerLog.sync(target, rendezvous);
        for (DirtyLogSource s : sources) {
            pages += s.syncInto(target);
        }
        syncNanos.addAndGet(System.nanoTime() - t0);
        syncCount.incrementAndGet();
        return pages;
    }

    @Override
    public synchronized void stop() {
        if (!active) {
            return;
        }
        active = false;
        if (broken != null) {
            // The hooks already left with the removed tracker; only the sources are still logging.
            broken = null;
            sources.forEach(DirtyLogSource::stopLogging);
            return;
        }
        try {
            rendezvous.onEachVcpu(i -> runners[i].vcpuMemory().setHook(null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (VcpuRunner r : runners) {
                r.vcpuMemory().setHook(null); // best effort; a late store only costs a spurious page
            }
        }
        trackerLog.stop();
        for (DirtyLogSource s : sources) {
            s.stopLogging();
        }
    }

    @Override
    public AutoCloseable addSource(DirtyLogSource source) {
        synchronized (this) {
            sources.add(source);
            if (active) {
                source.startLogging();
            }
        }
        return () -> {
            synchronized (this) {
                if (sources.remove(source) && active) {
                    source.stopLogging();
                }
            }
        };
    }

    @Override
    public List<String> sources() {
        return sources.stream().map(DirtyLogSource::name).toList();
    }

    @Override
    public synchronized Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>(trackerLog.stats());
        m.put("sync-count", syncCount.get());
        m.put("sync-time-ns", syncNanos.get());
        return m;
    }
}
