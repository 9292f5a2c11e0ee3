package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WarmupTest {

    static final AtomicInteger INITIALISED = new AtomicInteger();

    /** Counts its initialisation, which the warm-up must do (not only load it). */
    static final class Probe {
        static {
            INITIALISED.incrementAndGet();
        }
    }

    /** Counts too, but is never reached: the warm-up was stopped first. */
    static final class Late {
        static {
            INITIALISED.addAndGet(100);
        }
    }

    @Test
    void initialisesTheClassesSkipsWhatWillNotLoadAndStopsWhenAsked() {
        ClassLoader loader = WarmupTest.class.getClassLoader();
        AtomicBoolean stop = new AtomicBoolean();
        String probe = Probe.class.getName();
        new Warmup(Map.of(loader, List.of("io.godwit.no.Such", probe)), () -> {
            boolean was = stop.get();
            stop.set(INITIALISED.get() > 0); // stop once the probe has run
            return was;
        }).run();
        assertEquals(1, INITIALISED.get(), "the probe's initialiser did not run");
        new Warmup(Map.of(loader, List.of(Late.class.getName())), () -> true).run();
        assertEquals(1, INITIALISED.get(), "a stopped warm-up went on");
    }
}
