package io.godwit.kernel.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLogSource;

/**
 * The VMM's own dirty bitmap for DMA writes by emulated devices (QEMU's DIRTY_MEMORY_MIGRATION marks
 * from {@code cpu_physical_memory_set_dirty_range}): a source like any other, merged at each sync.
 */
final class DmaDirtyLog implements DirtyLogSource {

    private final DirtyBitmap log;
    private volatile boolean logging;

    DmaDirtyLog(long pages) {
        this.log = new DirtyBitmap(pages);
    }

    /** Called by any thread that wrote guest RAM through the DMA path. */
    void mark(long firstPage, long lastPageExclusive) {
        if (logging) {
            log.setRange(firstPage, lastPageExclusive);
        }
    }

    @Override
    public String name() {
        return "dma";
    }

    @Override
    public void startLogging() {
        log.clear();
        logging = true;
    }

    @Override
    public long syncInto(DirtyBitmap target) {
        return log.harvestInto(target);
    }

    @Override
    public void stopLogging() {
        logging = false;
        log.clear();
    }
}
