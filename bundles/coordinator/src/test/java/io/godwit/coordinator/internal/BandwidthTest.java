package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bandwidth estimate on a made-up clock: acknowledgements every 20 ms, both clocks alike. */
class BandwidthTest {

    private static final long MS = 1_000_000L;
    private static final long MB = 1_000_000L;

    private final Bandwidth bw = new Bandwidth();
    private long now;
    private long acked;

    /** {@code ms} of acknowledgements every 20 ms at {@code bytesPerSecond}. */
    private void link(long ms, long bytesPerSecond, boolean waiting) {
        for (long t = 0; t < ms; t += 20) {
            now += 20 * MS;
            acked += bytesPerSecond / 50;
            bw.sample(now, acked, now, waiting);
        }
    }

    private double estimate(long inFlight) {
        return bw.bytesPerSecond(now, inFlight);
    }

    @Test
    void nothingBeforeTheFirstWindow() {
        link(200, 1000 * MB, true);
        assertEquals(-1, estimate(1 << 20));
        link(200, 1000 * MB, true);
        assertEquals(1000 * MB, estimate(1 << 20), 1 * MB);
    }

    @Test
    void aLinkThatDegradesToATrickleIsFollowedWithinASecond() {
        link(2000, 1000 * MB, true);
        assertEquals(1000 * MB, estimate(4 << 20), 1 * MB);
        // 10 kB/s: 3 kB per window, far below the 64 KiB a window once needed to count, while
        // megabytes wait in socket buffers.
        link(1000, 10_000, true);
        assertTrue(estimate(4 << 20) <= 10_000 * 1.1, "still " + estimate(4 << 20) + " B/s");
    }

    /**
     * Multifd with one slow channel: a round's 4.2 MB is applied in one burst every 700 ms (the others
     * wait at the SYNC while it reads its batch), while the links move a steady 6 MB/s. What moved says
     * the link is not stuck between the bursts, so the estimate is the rounds' rate; counting the
     * bursts alone, the stall bound took it to half of that.
     */
    @Test
    void whatTheChannelsMoveMidBatchKeepsTheStallBoundToTheRoundsRate() {
        long moved = 0;
        for (int round = 0; round < 8; round++) {
            for (int t = 0; t < 700; t += 20) {
                now += 20 * MS;
                moved += 6 * MB / 50;
                bw.moved(moved, now);
            }
            acked += 42 * MB / 10;
            bw.sample(now, acked, now, true);
        }
        for (int t = 0; t < 640; t += 20) { // late in the next round: its burst not yet applied, the links moving
            now += 20 * MS;
            moved += 6 * MB / 50;
            bw.moved(moved, now);
        }
        assertEquals(6 * MB, estimate(1 << 20), 0.1 * 6 * MB);
    }

    @Test
    void aLinkThatStallsIsFollowedThoughNoAcknowledgementComes() {
        link(2000, 1000 * MB, true);
        now += 500 * MS; // a destination stuck in one large frame: not a byte acknowledged
        double halfway = estimate(4 << 20);
        assertTrue(halfway <= 500 * MB * 1.05, "half a second without progress: " + halfway + " B/s");
        now += 500 * MS;
        assertEquals(0, estimate(4 << 20), "a second without progress");
        link(1000, 1_000_000, true); // it moves again, at 1 MB/s: the old fast windows aged out
        assertEquals(1 * MB, estimate(4 << 20), 0.05 * MB);
    }

    @Test
    void aSlowLinkOfLargeFramesIsMeasuredBetweenItsAcknowledgements() {
        // 3 MB/s, one acknowledgement per 1 MiB frame, a third of a second apart.
        for (int i = 0; i < 12; i++) {
            now += 333 * MS;
            acked += 1 << 20;
            bw.sample(now, acked, now, true);
        }
        assertEquals(3.15 * MB, estimate(4 << 20), 0.1 * MB);
        now += 320 * MS; // a gap as long as the others: counted in, but it is no stall
        double e = estimate(4 << 20);
        assertTrue(e > 2 * MB && e <= 3.15 * MB, e + " B/s");
    }

    @Test
    void aSourceWithLittleToSendDoesNotLowerTheEstimate() {
        link(1000, 1000 * MB, true);
        // An idle guest: a PING now and then, nothing waiting for the link. That is the source's
        // rate, not the link's; the last measure stands.
        link(5000, 1000, false);
        // The window astride the change carried some of the fast bytes: slower, never the idle rate.
        assertTrue(estimate(0) > 100 * MB, estimate(0) + " B/s");
    }

    /**
     * A small working set's precopy: 16 MB in 20 ms with data waiting, then 280 ms of syncs and an idle
     * link, pass after pass. The link's rate is the 800 MB/s it ran at while loaded, which the
     * stop-and-copy will get; bytes over the whole window (53 MB/s) measured the spacing of the passes
     * and kept the switchover back until the window aged out.
     */
    @Test
    void aLinkLoadedPartOfTheWindowIsMeasuredWhileLoaded() {
        for (int pass = 0; pass < 4; pass++) {
            bw.sample(now, acked, now, true); // a pass begins: megabytes wait for the link
            now += 20 * MS;
            acked += 16 * MB;
            bw.sample(now, acked, now, false); // all of it applied: nothing waits
            for (int i = 0; i < 14; i++) {
                now += 20 * MS;
                bw.sample(now, acked, now, false);
            }
        }
        assertEquals(800 * MB, estimate(0), 1 * MB);
    }

    @Test
    void oldWindowsAgeOutOnceNewerOnesExist() {
        link(1000, 10 * MB, true);
        link(2000, 1000 * MB, true);
        assertEquals(1000 * MB, estimate(4 << 20), 1 * MB, "the slow windows of 2 s ago no longer count");
    }

    @Test
    void writtenBytesWithoutAReturnPathCountFromWindowsOf64KiB() {
        link(1000, 100 * MB, false);
        assertEquals(100 * MB, estimate(0), 1 * MB);
        link(1000, 10_000, false); // unknown whether data waited: too little to say anything
        assertTrue(estimate(0) > 10 * MB, estimate(0) + " B/s");
    }
}
