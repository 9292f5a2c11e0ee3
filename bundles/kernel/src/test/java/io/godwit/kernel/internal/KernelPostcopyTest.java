package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.api.memory.PostcopyRam;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Postcopy's missing pages in the kernel: faults wait for their page only, pages are placed once. */
class KernelPostcopyTest {

    private final KernelGuestMemory memory = KernelGuestMemory.map(1 << 20, null, false); // 256 pages
    private final List<Long> requested = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        memory.close();
    }

    private PostcopyRam start(long... missing) {
        DirtyBitmap map = new DirtyBitmap(memory.pages());
        for (long p : missing) {
            map.set(p);
        }
        return memory.startPostcopy(map, requested::add);
    }

    private static MemorySegment page(byte fill) {
        MemorySegment s = Arena.ofAuto().allocate(4096);
        s.fill(fill);
        return s;
    }

    @Test
    void aPageIsPlacedOnceAndNeverOverAStoreThatFollowed() {
        PostcopyRam pc = start(3);
        assertFalse(pc.present(3));
        assertTrue(pc.present(4));
        assertTrue(pc.place(3, page((byte) 7)));
        VcpuMemory cpu = new VcpuMemory(memory, 0);
        cpu.store8(3 * 4096, (byte) 9); // the guest writes the page once it is there
        assertFalse(pc.place(3, page((byte) 7)), "a present page was placed again");
        assertEquals(9, cpu.load8(3 * 4096), "the arriving copy overwrote the guest's store");
        assertFalse(pc.place(5, page((byte) 1)), "a page valid at the start was overwritten");
        assertEquals(0, pc.missing());
        pc.end();
        assertEquals(null, memory.postcopy());
    }

    /**
     * A run straddling a word boundary, with a page in the middle that arrived (and was written by the
     * guest) before: the missing pages are read straight into place, the present one is read and
     * dropped, the bytes of the stream stay in step, and a vCPU waiting on the last page wakes.
     */
    @Test
    void aRunIsPlacedStraightIntoRamAroundAPageThatIsPresentAlready() throws Exception {
        PostcopyRam pc = start(62, 63, 64, 65);
        VcpuMemory cpu = new VcpuMemory(memory, 0);
        assertTrue(pc.place(63, page((byte) 1)));
        cpu.store8(63 * 4096, (byte) 9);
        AtomicReference<Byte> seen = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().name("vcpu-w").start(() -> seen.set(new VcpuMemory(memory, 1)
                .load8(65 * 4096 + 100)));
        MemorySegment stream = Arena.ofAuto().allocate(5 * 4096);
        for (int i = 0; i < 5; i++) {
            stream.asSlice(i * 4096L, 4096).fill((byte) (20 + i)); // pages 61..65
        }
        long[] at = {0};
        long placed = pc.placeRun(61, 5, into -> {
            MemorySegment.copy(stream, at[0], into, 0, into.byteSize());
            at[0] += into.byteSize();
        });
        assertEquals(5 * 4096, at[0], "the stream's bytes were not all read");
        assertEquals(3, placed, "pages 62, 64 and 65 were missing");
        assertEquals(2, pc.stats().dropped(), "pages 61 (valid from the start) and 63 (arrived) are dropped");
        assertEquals(0, cpu.load8(61 * 4096), "a page valid at the start was overwritten");
        assertEquals(21, cpu.load8(62 * 4096));
        assertEquals(9, cpu.load8(63 * 4096), "the arriving copy overwrote the guest's store");
        assertEquals(23, cpu.load8(64 * 4096 + 4095));
        waiter.join(10_000);
        assertEquals((byte) 24, seen.get());
        assertEquals(0, pc.missing());
    }

    @Test
    void twoThreadsFaultingOnOnePageAskForItOnceAndBothWaitForIt() throws Exception {
        PostcopyRam pc = start(10, 11);
        VcpuMemory a = new VcpuMemory(memory, 0);
        VcpuMemory b = new VcpuMemory(memory, 1);
        AtomicReference<Byte> seenA = new AtomicReference<>();
        AtomicReference<Byte> seenB = new AtomicReference<>();
        Thread ta = Thread.ofPlatform().name("vcpu-a").start(() -> seenA.set(a.load8(10 * 4096 + 5)));
        Thread tb = Thread.ofPlatform().name("vcpu-b").start(() -> seenB.set(b.load8(10 * 4096 + 9)));
        long deadline = System.currentTimeMillis() + 10_000;
        while (pc.stats().faults() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(List.of(10L), requested, "requests");
        assertTrue(ta.isAlive() && tb.isAlive(), "an access to a missing page did not wait");
        a.load8(12 * 4096); // a present page does not wait behind the missing one
        pc.place(10, page((byte) 42));
        ta.join(10_000);
        tb.join(10_000);
        assertEquals((byte) 42, seenA.get());
        assertEquals((byte) 42, seenB.get());
        var stats = pc.stats();
        assertEquals(1, stats.requests());
        assertEquals(1, stats.latencyBuckets().stream().mapToLong(Long::longValue).sum());
        assertEquals(1, pc.missing());
    }

    @Test
    void theDmaPathWaitsForMissingPagesToo() throws Exception {
        PostcopyRam pc = start(20);
        MemorySegment into = Arena.ofAuto().allocate(16);
        Thread dma = Thread.ofPlatform().name("iothread").start(() -> memory.dmaRead(20 * 4096, into));
        long deadline = System.currentTimeMillis() + 10_000;
        while (requested.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(List.of(20L), requested);
        pc.placeZero(20);
        dma.join(10_000);
        assertFalse(dma.isAlive());
        assertEquals(0, into.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void anAbortedPostcopyFailsTheWaitingAccessInsteadOfHangingIt() throws Exception {
        PostcopyRam pc = start(30);
        VcpuMemory cpu = new VcpuMemory(memory, 0);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("vcpu").start(() -> {
            try {
                cpu.store8(30 * 4096, (byte) 1);
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        long deadline = System.currentTimeMillis() + 10_000;
        while (requested.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(1);
        }
        pc.abort("the source is gone");
        t.join(10_000);
        assertTrue(thrown.get() instanceof GuestMemoryFault, String.valueOf(thrown.get()));
        assertThrows(IllegalStateException.class, pc::end, "postcopy ended with a page missing");
    }
}
