package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.godwit.api.dirty.WriteHook;
import io.godwit.api.memory.GuestMemoryFault;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The CPU path's store window: which stores reach the tracker's hook, and which need not. */
class VcpuMemoryTest {

    private static final long PAGE = 4096;

    private final KernelGuestMemory memory = KernelGuestMemory.map(1 << 20, null, false); // 256 pages
    private final VcpuMemory cpu = new VcpuMemory(memory);

    @AfterEach
    void close() {
        memory.close();
    }

    /** Records the pages it is called for and answers {@code cacheable(page)}. */
    private static final class Recorder implements WriteHook {
        final List<Long> pages = new ArrayList<>();
        final LongUnaryOperator cacheable;

        Recorder(LongUnaryOperator cacheable) {
            this.cacheable = cacheable;
        }

        @Override
        public void onWrite(long page) {
            pages.add(page);
        }

        @Override
        public long onWriteCacheable(long page) {
            onWrite(page);
            return cacheable.applyAsLong(page);
        }
    }

    @Test
    void aHookThatCachesNothingSeesEveryStore() {
        List<Long> seen = new ArrayList<>();
        cpu.setHook(seen::add); // the default onWriteCacheable: 0
        for (int i = 0; i < 5; i++) {
            cpu.store8(3 * PAGE + i, (byte) i);
        }
        cpu.store64(4 * PAGE, 7);
        assertEquals(List.of(3L, 3L, 3L, 3L, 3L, 4L), seen);
        assertEquals(4, cpu.load8(3 * PAGE + 4));
        assertEquals(7, cpu.load64(4 * PAGE));
    }

    @Test
    void storesInsideTheAnsweredGroupSkipTheHookUntilTheNextKick() {
        Recorder hook = new Recorder(page -> -1L); // every page of the group is cacheable
        cpu.setHook(hook);
        cpu.store8(5 * PAGE, (byte) 1);
        for (long p = 0; p < 64; p++) {
            cpu.store32(p * PAGE + 12, (int) p);
        }
        assertEquals(List.of(5L), hook.pages, "one call opens the window over pages 0..63");
        assertEquals(63, cpu.load32(63 * PAGE + 12), "the stores themselves happened");
        cpu.store8(64 * PAGE, (byte) 1);
        assertEquals(List.of(5L, 64L), hook.pages, "the next group is outside the window");
        cpu.dropStoreWindow(); // a rendezvous action: the TLB flush
        cpu.store8(64 * PAGE + 1, (byte) 1);
        assertEquals(List.of(5L, 64L, 64L), hook.pages, "after a kick the hook is asked again");
    }

    @Test
    void theWindowIsTheRunOfCacheablePagesAroundTheStore() {
        Recorder hook = new Recorder(page -> 0b1111_1000L); // pages 3..7
        cpu.setHook(hook);
        cpu.store8(5 * PAGE, (byte) 1);
        cpu.store8(3 * PAGE, (byte) 1);
        cpu.store8(7 * PAGE + 4095, (byte) 1);
        assertEquals(List.of(5L), hook.pages);
        cpu.store8(2 * PAGE + 4095, (byte) 1);
        cpu.store8(8 * PAGE, (byte) 1);
        assertEquals(List.of(5L, 2L, 8L), hook.pages, "the pages beside the run are not in it");
        cpu.store8(6 * PAGE, (byte) 1);
        assertEquals(List.of(5L, 2L, 8L, 6L), hook.pages, "only the latest answer counts, and 8's had no window");
    }

    @Test
    void aStoreThatLeavesTheWindowCallsTheHookForBothPages() {
        Recorder hook = new Recorder(page -> 0b1111_1000L); // pages 3..7
        cpu.setHook(hook);
        cpu.store8(5 * PAGE, (byte) 1);
        cpu.store64(8 * PAGE - 4, 0x1122_3344_5566_7788L); // pages 7 and 8
        assertEquals(List.of(5L, 7L, 8L), hook.pages);
        assertEquals(0x1122_3344_5566_7788L, cpu.load64(8 * PAGE - 4));
        cpu.store8(5 * PAGE, (byte) 2);
        assertEquals(List.of(5L, 7L, 8L, 5L), hook.pages, "a store across pages leaves no window behind");
    }

    @Test
    void theWindowEndsWithTheBlock() {
        Recorder hook = new Recorder(page -> -1L);
        cpu.setHook(hook);
        cpu.store8(255 * PAGE, (byte) 1); // the last group: pages 192..255 exist, 256..255+ do not
        cpu.store8(200 * PAGE, (byte) 1);
        assertEquals(List.of(255L), hook.pages);
        assertThrows(GuestMemoryFault.class, () -> cpu.store8(256 * PAGE, (byte) 1));
        assertThrows(GuestMemoryFault.class, () -> cpu.store16(256 * PAGE - 1, (short) 1));
        assertEquals(List.of(255L), hook.pages, "a store outside RAM writes nothing and logs nothing");
    }

    @Test
    void aNewHookStartsWithAnEmptyWindowAndNoHookWithTheWholeBlock() {
        Recorder first = new Recorder(page -> -1L);
        cpu.setHook(first);
        cpu.store8(5 * PAGE, (byte) 1);
        Recorder second = new Recorder(page -> 0);
        cpu.setHook(second);
        cpu.store8(6 * PAGE, (byte) 1);
        assertEquals(List.of(6L), second.pages, "the old hook's answer does not outlive it");
        cpu.setHook(null);
        cpu.store8(7 * PAGE, (byte) 9);
        assertEquals(9, cpu.load8(7 * PAGE));
        assertEquals(List.of(5L), first.pages);
        assertEquals(List.of(6L), second.pages);
    }
}
