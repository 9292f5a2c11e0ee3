package io.godwit.api.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class DirtyBitmapTest {

    @Test
    void setTestCountAndNext() {
        DirtyBitmap b = new DirtyBitmap(200);
        b.set(0);
        b.set(63);
        b.set(64);
        b.set(199);
        assertEquals(4, b.count());
        assertTrue(b.test(63) && b.test(64) && !b.test(65));
        assertEquals(63, b.nextSetBit(1));
        assertEquals(199, b.nextSetBit(65));
        assertEquals(-1, b.nextSetBit(200));
        assertEquals(2, b.count(60, 100));
        assertTrue(b.testAndClear(63));
        assertFalse(b.testAndClear(63));
    }

    @Test
    void setRangeCoversWordEdges() {
        DirtyBitmap b = new DirtyBitmap(300);
        b.setRange(60, 130);
        assertEquals(70, b.count());
        assertFalse(b.test(59));
        assertTrue(b.test(60) && b.test(129));
        assertFalse(b.test(130));
        b.setAll();
        assertEquals(300, b.count());
        assertEquals(-1, b.nextSetBit(300));
        assertThrows(IndexOutOfBoundsException.class, () -> b.setRange(0, 301));
    }

    @Test
    void harvestMovesBitsAndLosesNoneSetConcurrently() throws Exception {
        DirtyBitmap log = new DirtyBitmap(1 << 16);
        DirtyBitmap target = new DirtyBitmap(1 << 16);
        AtomicBoolean stop = new AtomicBoolean();
        long[] setCount = new long[1];
        Thread writer = new Thread(() -> {
            for (long i = 0; !stop.get(); i++) {
                log.set(i & 0xffff);
                setCount[0] = i + 1;
            }
        });
        writer.start();
        for (int i = 0; i < 1000; i++) {
            log.harvestInto(target);
        }
        stop.set(true);
        writer.join();
        log.harvestInto(target);
        long expected = Math.min(setCount[0], 1 << 16);
        assertEquals(expected, target.count(), "every page set is in some harvest");
        assertEquals(0, log.count());
    }
}
