package io.godwit.virtio.net.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLogSource;

/**
 * The front end's side of the vhost log (QEMU's vhost memory listener): log_global_start allocates
 * the log for the whole mem table and hands it over (VHOST_SET_LOG_BASE) before turning
 * VHOST_F_LOG_ALL on; log_sync moves set bits into the migration bitmap, a cheap zero check and an
 * atomic exchange per 64-page word; log_global_stop reverses the order. Called on the migration
 * thread; start and stop program vhost under the device's monitor, never racing its DRIVER_OK.
 */
final class VhostLog implements DirtyLogSource {

    private final String name;
    private final VirtioNet device;
    private final long pages;
    private volatile DirtyBitmap log;
    private volatile long syncs;
    private volatile long scanNanos;
    private volatile long lastScanNanos;

    VhostLog(String name, VirtioNet device, long pages) {
        this.name = name;
        this.device = device;
        this.pages = pages;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void startLogging() {
        DirtyBitmap l = new DirtyBitmap(pages);
        log = l;
        device.startVhostLogging(l);
    }

    @Override
    public long syncInto(DirtyBitmap target) {
        DirtyBitmap l = log;
        if (l == null) {
            return 0;
        }
        long t0 = System.nanoTime();
        long n = l.harvestInto(target);
        long dt = System.nanoTime() - t0;
        lastScanNanos = dt;
        scanNanos += dt;
        syncs++;
        return n;
    }

    @Override
    public void stopLogging() {
        device.stopVhostLogging();
        log = null;
    }

    /** The log vhost writes into now, or null (for benchmarks). */
    DirtyBitmap current() {
        return log;
    }

    long syncs() {
        return syncs;
    }

    long scanNanos() {
        return scanNanos;
    }

    long lastScanNanos() {
        return lastScanNanos;
    }
}
