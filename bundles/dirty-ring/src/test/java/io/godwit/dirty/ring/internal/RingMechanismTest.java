package io.godwit.dirty.ring.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

/** The ring mechanism itself: one fault per page, ring-full exits at the soft limit, in-order harvest. */
@Timeout(60)
class RingMechanismTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final GuestMemory memory;

    RingMechanismTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new RingTracker(0, 1024), Map.of(DirtyTracker.NAME, RingTracker.NAME));
        memory = vms.create(VmSpec.builder("mem").memory(64 << 20).paused(true).dirtyTracker("ring").build()).memory();
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
    void oneFaultPerPageAndARingFullExitAtTheSoftLimit() throws Exception {
        DirtyLog log = new RingTracker(0, 1024).create(memory, 2);
        try (KitVcpus vcpus = new KitVcpus(2, "ring")) {
            log.start(vcpus);
            vcpus.install(log);
            storeRange(vcpus, 0, 0, 900);
            storeRange(vcpus, 0, 0, 900); // unprotected now: no fault, no entry
            storeRange(vcpus, 1, 0, 900); // the other vCPU neither: the permission is per page, not per vCPU
            assertEquals(900, log.stats().get("write-faults"));
            assertEquals(0, log.stats().get("ring-full-exits"));
            // vCPU 1's ring is full at the soft limit, 1024 - 64 = 960 entries: one exit reaps it.
            storeRange(vcpus, 1, 1000, 960);
            assertEquals(1, log.stats().get("ring-full-exits"));
            DirtyBitmap target = new DirtyBitmap(memory.pages());
            assertEquals(1860, log.sync(target, vcpus));
            assertEquals(1860, target.count());
            assertEquals(0, log.stats().get("kicks"), "parked vCPUs are not kicked");
            assertEquals(1860 + 1, log.stats().get("exits"));
            // The reset re-protected every harvested page: stores fault again, and a clean sync is empty.
            storeRange(vcpus, 1, 0, 10);
            assertEquals(1870, log.stats().get("write-faults"));
            assertEquals(10, log.sync(new DirtyBitmap(memory.pages()), vcpus));
            assertEquals(0, log.sync(new DirtyBitmap(memory.pages()), vcpus));
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void pagesReapedAtARingFullExitStayProtectedAndReachTheNextSync() throws Exception {
        DirtyLog log = new RingTracker(0, 1024).create(memory, 1);
        try (KitVcpus vcpus = new KitVcpus(1, "ring")) {
            log.start(vcpus);
            vcpus.install(log);
            storeRange(vcpus, 0, 0, 960); // exactly the soft limit: reaped and re-protected at the exit
            assertEquals(1, log.stats().get("ring-full-exits"));
            storeRange(vcpus, 0, 0, 960); // protected again after the reset: each page faults again
            assertEquals(1920, log.stats().get("write-faults"));
            DirtyBitmap target = new DirtyBitmap(memory.pages());
            log.sync(target, vcpus);
            assertEquals(960, target.count(), "each page once, whether from the ring or the reaped bitmap");
            vcpus.uninstall();
            log.stop();
        }
    }

    @Test
    void theRingSizeIsAPowerOfTwoFrom1024() {
        assertEquals(4096, RingTracker.ringSize(null));
        assertEquals(65536, RingTracker.ringSize("65536"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RingTracker.ringSize("5000"))
                .getMessage().contains("power of two"));
        assertThrows(IllegalArgumentException.class, () -> RingTracker.ringSize("512"));
        assertThrows(IllegalArgumentException.class, () -> RingTracker.ringSize("lots"));
    }
}
