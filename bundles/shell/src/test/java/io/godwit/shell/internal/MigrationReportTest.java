package io.godwit.shell.internal;

import static io.godwit.api.migration.MigrationStatus.ACTIVE;
import static io.godwit.api.migration.MigrationStatus.COMPLETED;
import static io.godwit.api.migration.MigrationStatus.FAILED;
import static io.godwit.api.migration.MigrationStatus.SETUP;
import static io.godwit.shell.internal.FakeMigration.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationInfo.RamStats;
import io.godwit.api.migration.MigrationParameter;
import org.junit.jupiter.api.Test;

class MigrationReportTest {

    @Test
    void noMigrationIsOneLine() {
        assertEquals("Migration status: none", MigrationReport.info(MigrationInfo.none()));
    }

    @Test
    void aCompletedMigrationShowsBothDowntimesAndNoEstimate() {
        assertEquals(String.join("\n",
                        "Migration status: completed",
                        "total time:        2345 ms",
                        "setup time:        3 ms",
                        "downtime:          41 ms (source: vCPUs stopped until the last byte was sent)",
                        "observed downtime: 58 ms (guest: source stop to destination resume)",
                        "transferred ram:   1.13 GiB",
                        "remaining ram:     0 B",
                        "total ram:         1 GiB",
                        "duplicate:         200000 pages (zero pages, sent without their bytes)",
                        "normal:            62144 pages",
                        "normal bytes:      242.75 MiB",
                        "dirty sync count:  3",
                        "dirty pages rate:  0 pages/s",
                        "throughput:        3520.13 mbps",
                        "pages per second:  100000",
                        "precopy ram:       1.13 GiB (sent while the guest ran here)",
                        "page size:         4 KiB"),
                MigrationReport.info(FakeMigration.ended(COMPLETED, null)));
    }

    @Test
    void xbzrleFiguresShowAsQemusLinesWhenItIsOn() {
        RamStats ram = new RamStats(512L << 20, 512L << 20, GIB, 10, 131072, 512L << 20, 2, 1500, 1000.0, 30000);
        var x = new MigrationInfo.XbzrleStats(64L << 20, 3000, 1000, 50, 0.05, 1365.333, 2);
        String shown = MigrationReport.info(new MigrationInfo(ACTIVE, 900, -1, 250, -1, -1, ram, 0, null, null,
                io.godwit.api.memory.PostcopyStats.none(), null, -1, x));
        assertTrue(shown.contains(String.join("\n",
                "cache size:        64 MiB",
                "xbzrle transferred: 2.93 KiB",
                "xbzrle pages:      1000 pages",
                "xbzrle cache miss: 50 pages",
                "xbzrle cache miss rate: 0.05",
                "xbzrle encoding rate: 1365.33",
                "xbzrle overflow:   2")), shown);
        assertTrue(!MigrationReport.info(new MigrationInfo(ACTIVE, 900, -1, 250, -1, -1, ram, 0, null, null))
                .contains("xbzrle"));
    }

    @Test
    void multifdShowsItsChannelsAndWithCompressionTheRatio() {
        MigrationInfo done = FakeMigration.ended(COMPLETED, null);
        MigrationInfo i = new MigrationInfo(done.status(), done.totalTimeMs(), done.setupTimeMs(),
                done.expectedDowntimeMs(), done.downtimeMs(), done.observedDowntimeMs(), done.ram(),
                done.throttlePercent(), null, null, done.postcopy(), null, -1,
                new MigrationInfo.MultifdInfo(4, "zstd", 300L << 20, 1L << 30, 256L << 20));
        String text = MigrationReport.info(i);
        assertEquals(true, text.contains("\nmultifd:           4 channel(s), 300 MiB carried\n"), text);
        assertEquals(true, text.endsWith("\ncompression:       zstd: 1.0 GiB of pages in 256 MiB, ratio 4.00"), text);
    }

    @Test
    void thePhasesBytesShowWhenNotZeroAsQemuShowsThem() {
        RamStats ram = new RamStats(GIB + (8L << 20), 0, GIB, 0, 264192, GIB + (8L << 20), 2, 0, 1.0, 1, GIB,
                8L << 20, 0, 4096);
        String info = MigrationReport.info(new MigrationInfo(COMPLETED, 900, 4, -1, 30, 40, ram, 0, null, null));
        assertEquals(String.join("\n",
                        "precopy ram:       1 GiB (sent while the guest ran here)",
                        "downtime ram:      8 MiB (sent in the stop-and-copy)",
                        "page size:         4 KiB"),
                info.substring(info.indexOf("precopy ram")));
        RamStats postcopy = new RamStats(GIB, 0, GIB, 0, 262144, GIB, 2, 0, 1.0, 1, 0, 0, GIB, 4096);
        String pc = MigrationReport.info(new MigrationInfo(COMPLETED, 900, 4, -1, 30, 40, postcopy, 0, null, null));
        assertEquals("postcopy ram:      1 GiB (sent from postcopy's stop on)\npage size:         4 KiB",
                pc.substring(pc.indexOf("postcopy ram")));
    }

    @Test
    void unknownTimesAreLeftOutAndOptionalFieldsShownWhenSet() {
        RamStats ram = new RamStats(512L << 20, 512L << 20, GIB, 10, 131072, 512L << 20, 2, 1500, 1000.0, 30000);
        String active = MigrationReport.info(
                new MigrationInfo(ACTIVE, 900, -1, 250, -1, -1, ram, 30, "tcp:127.0.0.1:41234", null));
        assertEquals(String.join("\n",
                        "Migration status: active",
                        "total time:        900 ms",
                        "expected downtime: 250 ms",
                        "transferred ram:   512 MiB",
                        "remaining ram:     512 MiB",
                        "total ram:         1 GiB",
                        "duplicate:         10 pages (zero pages, sent without their bytes)",
                        "normal:            131072 pages",
                        "normal bytes:      512 MiB",
                        "dirty sync count:  2",
                        "dirty pages rate:  1500 pages/s",
                        "throughput:        1000.00 mbps",
                        "pages per second:  30000",
                        "precopy ram:       512 MiB (sent while the guest ran here)",
                        "page size:         4 KiB",
                        "cpu throttle:      30 %",
                        "socket address:    tcp:127.0.0.1:41234"),
                active);
        // The estimate belongs to an active migration only (QEMU's expected-downtime).
        String failed = MigrationReport.info(new MigrationInfo(FAILED, 900, 4, 250, -1, -1, ram, 0, null, "boom"));
        assertEquals("Migration status: failed\ntotal time:        900 ms\nsetup time:        4 ms\n",
                failed.substring(0, failed.indexOf("transferred")));
        assertEquals("error:             boom", failed.lines().toList().getLast());
    }

    @Test
    void aMigrationInSetupHasNoRamCountersYet() {
        assertEquals("Migration status: setup\ntotal time:        12 ms\nsocket address:    tcp:127.0.0.1:41234",
                MigrationReport.info(new MigrationInfo(SETUP, 12, -1, -1, -1, -1, RamStats.EMPTY, 0,
                        "tcp:127.0.0.1:41234", null)));
        assertEquals("[..........]   0%  setup", MigrationReport.progressLine(FakeMigration.at(SETUP, 0, GIB), "a", 80));
    }

    @Test
    void percentIsTheShareOfRamCurrentAtTheDestination() {
        assertEquals(0, MigrationReport.percent(FakeMigration.at(SETUP, 0, 0)));
        assertEquals(50, MigrationReport.percent(FakeMigration.at(ACTIVE, 1, GIB / 2)));
        assertEquals(99, MigrationReport.percent(FakeMigration.at(ACTIVE, 4, 4096))); // 100 only when done
        assertEquals(100, MigrationReport.percent(FakeMigration.at(ACTIVE, 4, 0)));
        assertEquals(100, MigrationReport.percent(FakeMigration.ended(COMPLETED, null)));
        assertEquals(-1, MigrationReport.percent(new MigrationInfo(ACTIVE, 1, 1, 1, -1, -1, RamStats.EMPTY, 0, null,
                null)));
        assertEquals("[..........]", MigrationReport.bar(0));
        assertEquals("[#####.....]", MigrationReport.bar(59));
        assertEquals("[##########]", MigrationReport.bar(100));
    }

    @Test
    void progressLinesDropTheLeastTellingFieldsFirst() {
        MigrationInfo i = FakeMigration.at(ACTIVE, 3, 300L << 20);
        String full = "[#######...]  70%  pass 3  852 MiB sent  300 MiB remaining  954 MiB/s  expected downtime 120 ms";
        assertEquals(full, MigrationReport.progressLine(i, "a", 200));
        assertEquals("[#######...]  70%  pass 3  300 MiB remaining  954 MiB/s  expected downtime 120 ms",
                MigrationReport.progressLine(i, "a", full.length()));
        assertEquals("[#######...]  70%  pass 3  300 MiB remaining  expected downtime 120 ms",
                MigrationReport.progressLine(i, "a", 71));
        assertEquals("[#######...]  70%  pass 3", MigrationReport.progressLine(i, "a", 40));
        assertEquals("[#######.", MigrationReport.progressLine(i, "a", 10));
        assertEquals("pass 3: 70% current, 852 MiB sent, 300 MiB remaining, 954 MiB/s, expected downtime 120 ms",
                MigrationReport.passLine(i));
    }

    @Test
    void compactSizesAndRates() {
        assertEquals("0 B", MigrationReport.compact(0));
        assertEquals("1023 B", MigrationReport.compact(1023));
        assertEquals("1.0 KiB", MigrationReport.compact(1024));
        assertEquals("456 MiB", MigrationReport.compact(456L << 20));
        assertEquals("1.5 GiB", MigrationReport.compact(3L << 29));
        assertEquals("954 MiB/s", MigrationReport.rate(8000));
        assertEquals("0 B/s", MigrationReport.rate(0));
    }

    @Test
    void parameterValuesCarryTheirUnit() {
        assertEquals("300 ms", MigrationSettings.format(MigrationParameter.DOWNTIME_LIMIT, 300));
        assertEquals("0 (unlimited)", MigrationSettings.format(MigrationParameter.MAX_BANDWIDTH, 0));
        assertEquals("104857600 bytes/s (100 MiB/s)",
                MigrationSettings.format(MigrationParameter.MAX_BANDWIDTH, 100L << 20));
        assertEquals("20 %", MigrationSettings.format(MigrationParameter.CPU_THROTTLE_INITIAL, 20));
    }
}
