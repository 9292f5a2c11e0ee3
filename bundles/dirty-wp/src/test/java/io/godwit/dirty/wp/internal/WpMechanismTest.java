package io.godwit.dirty.wp.internal;

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

/** The write-protect mechanism itself: faults, shootdowns and the exit cost, counted exactly. */
@Timeout(60)
class WpMechanismTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final GuestMemory memory;

    WpMechanismTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new WpTracker(0), Map.of(DirtyTracker.NAME, WpTracker.NAME));
        memory = vms.create(VmSpec.builder("mem").memory(64 << 20).paused(true).dirtyTracker("wp").build()).memory();
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
    void oneFaultPerPageFirstStoredToAfterEachHarvest() throws Exception {
        DirtyLog log = new WpTracker(0).create(memory, 2);
        try (KitVcpus vcpus = new KitVcpus(2, "wp")) {
            log.start(vcpus);
            vcpus.install(log);
            storeRange(vcpus, 0, 0, 5000);
            storeRange(vcpus, 0, 0, 5000); // writable now: no fault
            storeRange(vcpus, 1, 4000, 2000); // 1000 of them already writable for every vCPU (one EPT)
            assertEquals(6000, log.stats().get("write-faults"));
            DirtyBitmap target = new DirtyBitmap(memory.pages());
            assertEquals(6000, log.sync(target, vcpus));
            assertEquals(6000, target.count());
            Map<String, Long> s = log.stats();
            assertEquals(0, s.get("kicks"), "parked vCPUs need no shootdown IPI: " + s);
            assertEquals(6000, s.get("exits"));
            storeRange(vcpus, 1, 0, 5000); // re-protected by the harvest: faults again
            assertEquals(11000, log.stats().get("write-faults"));
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void syncShootsDownTlbsOnlyAfterReprotecting() throws Exception {
        DirtyLog log = new WpTracker(0).create(memory, 2);
        try (KitVcpus vcpus = new KitVcpus(2, "wp")) {
            log.start(vcpus);
            vcpus.install(log);
            vcpus.run((v, hook) -> { }, 0); // running, storing nothing
            Thread.sleep(50);
            log.sync(new DirtyBitmap(memory.pages()), vcpus);
            assertEquals(0, log.stats().get("kicks"), "nothing re-protected: no shootdown");
            vcpus.park();
            storeRange(vcpus, 0, 100, 3);
            vcpus.run((v, hook) -> { }, 0);
            Thread.sleep(50);
            assertEquals(3, log.sync(new DirtyBitmap(memory.pages()), vcpus));
            assertEquals(2, log.stats().get("kicks"), "one shootdown kick per running vCPU");
            vcpus.park();
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void theExitCostIsPaidOnTheVcpuThread() throws Exception {
        long cost = 100_000;
        DirtyLog log = new WpTracker(cost).create(memory, 1);
        try (KitVcpus vcpus = new KitVcpus(1, "wp")) {
            log.start(vcpus);
            vcpus.install(log);
            long[] took = new long[1];
            vcpus.on(0, hook -> {
                long t0 = System.nanoTime();
                for (long p = 0; p < 20; p++) {
                    hook.onWrite(p);
                    hook.onWrite(p);
                }
                took[0] = System.nanoTime() - t0;
            });
            assertEquals(20, log.stats().get("write-faults"));
            assertEquals(cost, log.stats().get("exit-cost-ns"));
            assertTrue(took[0] >= 20 * cost, "20 faults of " + cost + " ns took " + took[0] + " ns");
            vcpus.uninstall();
            log.stop();
        }
    }
}
