package io.godwit.dirty.pml.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.dirty.testkit.KitVcpus;
import io.godwit.kernel.internal.VmManagerImpl;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The PML mechanism itself: log-full exits, kicks, TLB flushes and the exit cost, counted exactly. */
@Timeout(60)
class PmlMechanismTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final GuestMemory memory;

    PmlMechanismTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new PmlTracker(0), Map.of(DirtyTracker.NAME, PmlTracker.NAME));
        memory = vms.create(VmSpec.builder("mem").memory(64 << 20).paused(true).dirtyTracker("pml").build()).memory();
    }

    @AfterEach
    void close() throws InterruptedException {
        vms.deactivate();
    }

    private static void storeRange(KitVcpus vcpus, int vcpu, long from, int count) throws InterruptedException {
        vcpus.on(vcpu, hook -> {
            for (long p = from; p < from + count; p++) {
                hook.onWrite(p);
            }
        });
    }

    @Test
    void oneLogFullExitPer512PagesFirstDirtied() throws Exception {
        DirtyLog log = new PmlTracker(0).create(memory, 2);
        try (KitVcpus vcpus = new KitVcpus(2, "pml")) {
            log.start(vcpus);
            vcpus.install(log);
            storeRange(vcpus, 0, 0, 5000);
            storeRange(vcpus, 0, 0, 5000); // D bits set: no logging, no exit
            // 512 entries fill the log; the 513th first-dirtying store exits first: 9 exits for 5000.
            assertEquals(9, log.stats().get("pml-full-exits"));
            assertEquals(9 * 512, log.stats().get("pages-logged"), "flushed at the exits so far");
            storeRange(vcpus, 1, 6000, 511); // one entry short of full: no exit
            assertEquals(9, log.stats().get("pml-full-exits"));
            DirtyBitmap target = new DirtyBitmap(memory.pages());
            assertEquals(5511, log.sync(target, vcpus));
            assertEquals(5511, target.count());
            Map<String, Long> s = log.stats();
            assertEquals(0, s.get("kicks"), "parked vCPUs are flushed on the caller, not kicked: " + s);
            assertEquals(9, s.get("exits"));
            assertEquals(5511, s.get("pages-logged"));
            storeRange(vcpus, 1, 0, 5000); // D bits were cleared by the harvest: logged again
            assertEquals(18, log.stats().get("pml-full-exits"));
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void syncKicksRunningVcpusAndFlushesTlbsOnlyAfterClearingDBits() throws Exception {
        DirtyLog log = new PmlTracker(0).create(memory, 2);
        try (KitVcpus vcpus = new KitVcpus(2, "pml")) {
            log.start(vcpus);
            vcpus.install(log);
            vcpus.run((v, hook) -> { }, 0); // running, storing nothing
            Thread.sleep(50);
            log.sync(new DirtyBitmap(memory.pages()), vcpus);
            long k0 = log.stats().get("kicks");
            log.sync(new DirtyBitmap(memory.pages()), vcpus);
            assertEquals(2, log.stats().get("kicks") - k0, "nothing harvested: one kick per vCPU, no TLB flush");
            vcpus.park();
            storeRange(vcpus, 0, 100, 3);
            vcpus.run((v, hook) -> { }, 0);
            Thread.sleep(50);
            long k1 = log.stats().get("kicks");
            assertEquals(3, log.sync(new DirtyBitmap(memory.pages()), vcpus));
            assertEquals(4, log.stats().get("kicks") - k1, "kick to flush, then kick to flush TLBs");
            vcpus.park();
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void theExitCostIsPaidOnTheVcpuThread() throws Exception {
        long cost = 200_000;
        DirtyLog log = new PmlTracker(cost).create(memory, 1);
        try (KitVcpus vcpus = new KitVcpus(1, "pml")) {
            log.start(vcpus);
            vcpus.install(log);
            long[] took = new long[1];
            vcpus.on(0, hook -> {
                long t0 = System.nanoTime();
                for (long p = 0; p < 5000; p++) {
                    hook.onWrite(p);
                }
                took[0] = System.nanoTime() - t0;
            });
            assertEquals(9, log.stats().get("pml-full-exits"));
            assertEquals(cost, log.stats().get("exit-cost-ns"));
            assertTrue(took[0] >= 9 * cost, "9 exits of " + cost + " ns took " + took[0] + " ns");
            vcpus.uninstall();
            log.stop();
        }
    }
}
