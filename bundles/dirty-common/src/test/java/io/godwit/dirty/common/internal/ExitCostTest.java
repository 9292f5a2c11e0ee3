package io.godwit.dirty.common.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExitCostTest {

    @Test
    void componentPropertyWinsOverFrameworkPropertyAndDefaultIsZero() {
        assertEquals(0, ExitCost.resolve(Map.of(), null));
        assertEquals(0, ExitCost.resolve(null, " "));
        assertEquals(700, ExitCost.resolve(Map.of(), "700"));
        assertEquals(1500, ExitCost.resolve(Map.of(ExitCost.PROPERTY, 1500L), "700"));
        assertEquals(1500, ExitCost.resolve(Map.of(ExitCost.PROPERTY, "1500"), "700"));
        assertEquals(3, ExitCost.resolve(Map.of(ExitCost.PROPERTY, 3), null));
    }

    @Test
    void badValuesAreRefusedWithThePropertyName() {
        var e = assertThrows(IllegalArgumentException.class, () -> ExitCost.resolve(Map.of(), "1us"));
        assertTrue(e.getMessage().contains(ExitCost.PROPERTY), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExitCost.resolve(Map.of(ExitCost.PROPERTY, -1L), null));
    }

    @Test
    void paySpinsAtLeastThatLong() {
        long t0 = System.nanoTime();
        ExitCost.pay(2_000_000);
        assertTrue(System.nanoTime() - t0 >= 2_000_000);
        ExitCost.pay(0);
    }
}
