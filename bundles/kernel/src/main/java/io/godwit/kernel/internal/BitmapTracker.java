package io.godwit.kernel.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.dirty.WriteHook;
import io.godwit.api.memory.GuestMemory;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.osgi.service.component.annotations.Component;

/**
 * The built-in tracker: every CPU store marks a shared bitmap directly, as QEMU does under TCG. A
 * page already marked costs one plain read; only the first store after a harvest pays an atomic OR.
 * Sync swaps words out atomically, so it needs no vCPU kick.
 */
@Component(property = DirtyTracker.NAME + "=" + BitmapTracker.NAME)
public class BitmapTracker implements DirtyTracker {

    static final String NAME = "bitmap";

    @Override
    public DirtyLog create(GuestMemory memory, int vcpus) {
        return new Log(memory.pages());
    }

    @Override
    public String description() {
        return "TCG-style bitmap: every CPU store marks its page; sync harvests atomically, no exits";
    }

    private static final class Log implements DirtyLog {
        private final DirtyBitmap bitmap;
        private final WriteHook hook;
        private final LongAdder harvested = new LongAdder();

        Log(long pages) {
            this.bitmap = new DirtyBitmap(pages);
            this.hook = bitmap::set;
        }

        @Override
        public WriteHook hook(int vcpu) {
            return hook;
        }

        @Override
        public void start(VcpuRendezvous vcpus) {
            bitmap.clear();
        }

        @Override
        public long sync(DirtyBitmap target, VcpuRendezvous vcpus) {
            long n = bitmap.harvestInto(target);
            harvested.add(n);
            return n;
        }

        @Override
        public void stop() {
            bitmap.clear();
        }

        @Override
        public Map<String, Long> stats() {
            return Map.of("pages-harvested", harvested.sum());
        }
    }
}
