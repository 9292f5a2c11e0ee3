package io.godwit.cpu.riscv.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the oracles cost the host: bounded heap, and no replay from scratch at every check. */
class OraclesTest {

    private final Machine machine = new Machine();

    @AfterEach
    void close() throws InterruptedException {
        machine.close();
    }

    @Test
    void aBufferWhoseReplayWouldNeedGigabytesOfHeapIsRefused() {
        for (String program : new String[] {"hash:words=33554432", "mixed:words=268435456"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> machine.create("w", program, 16 << 20, 1));
            assertTrue(e.getMessage().contains("up to 2^24"), e.getMessage());
        }
    }

    @Test
    void aLaterCheckReplaysOnlyTheNewIterations() {
        Oracles.MixedReplay replay = new Oracles.MixedReplay(1024);
        replay.at(1000);
        Reference.Mixed at1500 = replay.at(1500);
        assertEquals(1500, replay.replayed, "1000, then 500 more");
        Reference.Mixed fresh = new Reference.Mixed(1024);
        for (int i = 0; i < 1500; i++) {
            fresh.step();
        }
        assertEquals(fresh.checksum(), at1500.checksum());
        assertEquals(1500, at1500.i);
        // A smaller counter (the VM's memory loaded again) starts over.
        Reference.Mixed at200 = replay.at(200);
        assertEquals(1700, replay.replayed);
        assertEquals(200, at200.i);
    }
}
