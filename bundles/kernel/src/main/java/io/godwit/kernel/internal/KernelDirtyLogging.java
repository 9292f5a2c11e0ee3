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

    private final String trackerName;
    private final DirtyLog trackerLog;
    private final VcpuRendezvous rendezvous;
    private final VcpuRunner[] runners;
    private final WriteHook[] hooks;
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
        for (int i = 0; i < runners.length; i++) {
            hooks[i] = trackerLog.hook(i);
        }
        sources.add(dma);
    }

    @Override
    public String trackerName() {
        return trackerName;
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
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>(trackerLog.stats());
        m.put("sync-count", syncCount.get());
        m.put("sync-time-ns", syncNanos.get());
        return m;
    }
}
