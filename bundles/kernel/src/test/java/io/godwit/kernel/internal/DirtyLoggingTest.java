package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DirtyLoggingTest {

    private final Host host = new Host();

    @AfterEach
    void close() throws InterruptedException {
        host.close();
    }

    @Test
    void syncSeesTheSweepsPagesAndNothingWhileStopped() throws Exception {
        Vm vm = host.create("a", 16 << 20, 2, "sweep:4M");
        var log = vm.dirtyLogging();
        log.start();
        // Two quantum publications after start: the second quantum ran wholly with logging on.
        long p = awaitProgressBeyond(vm, vm.cpus().get(0).progress());
        awaitProgressBeyond(vm, p);
        long q = awaitProgressBeyond(vm, 1, vm.cpus().get(1).progress());
        awaitProgressBeyond(vm, 1, q);
        DirtyBitmap bitmap = new DirtyBitmap(vm.memory().pages());
        log.sync(bitmap);
        assertEquals(1024, bitmap.count(), "the sweep writes every page of its 4 MiB range each pass");
        assertEquals(1024, bitmap.count(0, 1024));
        vm.stop(RunState.PAUSED);
        log.sync(new DirtyBitmap(vm.memory().pages())); // harvest what the last quantum wrote
        DirtyBitmap after = new DirtyBitmap(vm.memory().pages());
        assertEquals(0, log.sync(after), "a stopped guest dirties nothing");
        log.stop();
        assertTrue(log.stats().get("sync-count") >= 3);
    }

    @Test
    void dmaWritesAreASourceOfTheSameSync() throws Exception {
        Vm vm = host.create("a", 16 << 20, 1, "idle");
        var log = vm.dirtyLogging();
        log.start();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4098);
            vm.memory().dmaWrite(8 * 4096 + 4095, buf); // straddles pages 8, 9 and 10
        }
        DirtyBitmap bitmap = new DirtyBitmap(vm.memory().pages());
        log.sync(bitmap);
        assertEquals(3, bitmap.count());
        assertTrue(bitmap.test(8) && bitmap.test(9) && bitmap.test(10));
        log.stop();
    }

    @Test
    void aStoreAfterAHarvestIsInTheNextHarvest() throws Exception {
        Vm vm = host.create("a", 16 << 20, 1, "sweep:64K"); // 16 pages, rewritten constantly
        var log = vm.dirtyLogging();
        log.start();
        for (int round = 0; round < 200; round++) {
            DirtyBitmap b = new DirtyBitmap(vm.memory().pages());
            log.sync(b);
            // Progress is published at the end of each quantum, so the first publication after the
            // harvest may cover writes made before it. The quantum after that one began after the
            // harvest and wrote at least 64 pages over the 16-page range: every page, after the harvest.
            long before = vm.cpus().get(0).progress();
            long first = awaitProgressBeyond(vm, before);
            awaitProgressBeyond(vm, first);
            DirtyBitmap next = new DirtyBitmap(vm.memory().pages());
            log.sync(next);
            assertEquals(16, next.count(), "round " + round);
        }
        log.stop();
    }

    private static long awaitProgressBeyond(Vm vm, long progress) {
        return awaitProgressBeyond(vm, 0, progress);
    }

    private static long awaitProgressBeyond(Vm vm, int vcpu, long progress) {
        long p;
        while ((p = vm.cpus().get(vcpu).progress()) <= progress) {
            Thread.onSpinWait();
        }
        return p;
    }

    @Test
    void fileBackedRamIsSharedWithAnotherMapping() throws Exception {
        var file = java.nio.file.Files.createTempFile("godwit-ram", ".img");
        try {
            Vm vm = host.manager.create(io.godwit.api.vm.VmSpec.builder("a").memory(8 << 20).workload("fill")
                    .memPath(file).build());
            Thread.sleep(200);
            vm.stop(RunState.PAUSED);
            assertTrue(vm.memory().blocks().get(0).backingFile().isPresent());
            try (var ch = java.nio.channels.FileChannel.open(file); Arena arena = Arena.ofConfined()) {
                MemorySegment other = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 8 << 20, arena);
                MemorySegment mine = vm.memory().blocks().get(0).raw();
                assertEquals(-1, MemorySegment.mismatch(mine, 0, 8 << 20, other, 0, 8 << 20));
                assertTrue(other.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0) != 0);
            }
        } finally {
            host.manager.destroy("a");
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    /**
     * A tracker whose hook says its whole group is cacheable: the kernel must stop calling it for that
     * group until the next rendezvous, and call it again after each one (the TLB flush of a kick).
     */
    @Test
    void aRendezvousEndsTheStoreWindowTheHookOpened() throws Exception {
        java.util.concurrent.atomic.LongAdder calls = new java.util.concurrent.atomic.LongAdder();
        io.godwit.api.dirty.WriteHook hook = new io.godwit.api.dirty.WriteHook() {
            @Override
            public void onWrite(long page) {
                calls.increment();
            }

            @Override
            public long onWriteCacheable(long page) {
                onWrite(page);
                return -1L;
            }
        };
        host.manager.addDirtyTracker(new io.godwit.api.dirty.DirtyTracker() {
            @Override
            public io.godwit.api.dirty.DirtyLog create(io.godwit.api.memory.GuestMemory memory, int vcpus) {
                return new io.godwit.api.dirty.DirtyLog() {
                    public io.godwit.api.dirty.WriteHook hook(int vcpu) {
                        return hook;
                    }

                    public void start(io.godwit.api.dirty.VcpuRendezvous r) {}

                    public long sync(DirtyBitmap target, io.godwit.api.dirty.VcpuRendezvous r)
                            throws InterruptedException {
                        r.onEachVcpu(i -> {}); // a kick and nothing else
                        return 0;
                    }

                    public void stop() {}

                    public java.util.Map<String, Long> stats() {
                        return java.util.Map.of();
                    }
                };
            }

            @Override
            public String description() {
                return "caches everything";
            }
        }, java.util.Map.of(io.godwit.api.dirty.DirtyTracker.NAME, "caching"));
        // 64 pages from page 0: one group, so one hook call covers every store of the guest.
        Vm vm = host.manager.create(io.godwit.api.vm.VmSpec.builder("a").memory(16 << 20).workload("sweep:256K")
                .dirtyTracker("caching").build());
        var log = vm.dirtyLogging();
        log.start();
        for (int round = 0; round < 5; round++) {
            long p = awaitProgressBeyond(vm, vm.cpus().get(0).progress());
            p = awaitProgressBeyond(vm, p);
            awaitProgressBeyond(vm, p); // a whole quantum of stores since the last kick, thousands of them
            assertEquals(round + 1, calls.sum(), "round " + round + ": one call per kick, not one per store");
            log.sync(new DirtyBitmap(vm.memory().pages()));
        }
        log.stop();
        long off = calls.sum();
        awaitProgressBeyond(vm, awaitProgressBeyond(vm, vm.cpus().get(0).progress()));
        assertEquals(off, calls.sum(), "logging off: no hook");
    }
}
