package io.godwit.shell.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLogSource;
import io.godwit.api.dirty.DirtyLogging;
import java.util.List;
import java.util.Map;

/** Dirty logging that is never on, for what the shell shows about a fake VM's tracker. */
record FakeDirtyLogging(String trackerName) implements DirtyLogging {

    @Override
    public void start() {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean active() {
        return false;
    }

    @Override
    public long sync(DirtyBitmap target) {
        throw new IllegalStateException("dirty logging is off");
    }

    @Override
    public void stop() {}

    @Override
    public AutoCloseable addSource(DirtyLogSource source) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<String> sources() {
        return List.of("dma");
    }

    @Override
    public Map<String, Long> stats() {
        return Map.of("sync-count", 0L);
    }
}
