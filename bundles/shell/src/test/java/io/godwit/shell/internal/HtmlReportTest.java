package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.migration.MigrationHistory;
import io.godwit.api.migration.MigrationPass;
import io.godwit.api.migration.MigrationStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code info migrate --report FILE}: the page JFreeChart and JFreeSVG draw from a migration's record.
 * Here the page's text; {@code TwoHostsIT} loads a real migration's page in headless chromium.
 */
class HtmlReportTest {

    /** A series' line: JFreeSVG puts the id on the group that gives the path its stroke. */
    private static final Pattern PATH = Pattern.compile("<g id='([^']+)'[^>]*><path d='([^']*)'");

    private final FakeVmManager vms = new FakeVmManager();
    private final FakeMigration migration = new FakeMigration(vms);
    private final InfoCommand info = new InfoCommand();

    @TempDir
    Path dir;

    HtmlReportTest() {
        info.addSubject(new MigrateInfo(vms, migration));
    }

    /** Four passes, the throttle rising from the third, then a stop-and-copy of 3 MiB. */
    private static MigrationHistory history() {
        List<MigrationPass> passes = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            passes.add(new MigrationPass(i, 100L * i, 100L * (i + 1), (64L >> (i - 1)) << 20, (40L + i) << 20,
                    (300L - i) << 20, 400 / i, 300, i < 3 ? 0 : 10 * (i - 2), (32L >> i) << 20));
        }
        return new MigrationHistory(passes, 520, 3 << 20, false);
    }

    private String report(String vm) throws Exception {
        Path file = dir.resolve("r.html");
        String out = info.info("migrate", vm, "--report", file.toString()).toString();
        assertTrue(out.startsWith("Migration status: completed") && out.endsWith("report: " + file + " (4 passes)"), out);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (var left = Files.list(dir)) {
            assertEquals(List.of(file), left.toList(), "no temporary file left beside the report");
        }
        return Files.readString(file);
    }

    @Test
    void everyChartHasItsSeriesWithAPointPerPass() throws Exception {
        vms.add("a");
        migration.play("a", FakeMigration.ended(MigrationStatus.COMPLETED, null));
        migration.history = history();
        String page = report("a");
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains("default-src 'none'"), page);
        assertFalse(page.contains("<script") || page.contains("http:") && !page.contains("http://www.w3.org"),
                "the page loads and runs nothing");
        var lines = new java.util.HashMap<String, Integer>();
        Matcher m = PATH.matcher(page);
        while (m.find()) {
            lines.put(m.group(1), m.group(2).split("[ML]", -1).length - 1);
        }
        for (String series : List.of("rates-dirty-rate", "rates-bandwidth", "downtime-expected-downtime",
                "downtime-downtime-limit", "throttle-cpu-throttle")) {
            assertEquals(4, lines.getOrDefault(series, 0), series + " in " + lines);
        }
        for (int pass = 1; pass <= 4; pass++) {
            assertTrue(page.contains("id='bytes-bytes-sent-pass-" + pass + "'"), "bar of pass " + pass);
        }
        assertTrue(page.contains("id='bytes-bytes-sent-switchover'"), "the switchover's bar");
        for (String bar : List.of("expected-downtime", "downtime-limit", "downtime-source", "observed-downtime-guest")) {
            assertTrue(page.contains("id='switchover-" + bar + "-switchover'"), bar);
        }
        assertTrue(page.contains(">switchover</text>"), "the switchover's marker is labelled");
        assertTrue(page.contains("<th>observed downtime (guest)</th><td>"), page);
    }

    @Test
    void theVmNameAndErrorAreEscaped() throws Exception {
        vms.add("a");
        migration.play("a", FakeMigration.ended(MigrationStatus.FAILED, "peer said <script>alert(1)</script> & left"));
        migration.history = history();
        String page = HtmlReport.page("<b>", migration.info("a"), migration.history(("a")));
        assertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; left"), page);
        assertTrue(page.contains("Migration of VM &lt;b&gt;") && !page.contains("<script>"), page);
    }

    @Test
    void noOutgoingMigrationOrNoFileIsAOneLineError() {
        vms.add("a");
        assertEquals("VM 'a' has no outgoing migration to report (run info migrate --report on the source, during"
                + " or after its migrate)", assertThrows(IllegalArgumentException.class,
                        () -> info.info("migrate", "a", "--report", dir.resolve("x.html").toString())).getMessage());
        assertEquals("info migrate --report needs a FILE, e.g. info migrate --report migration.html",
                assertThrows(IllegalArgumentException.class, () -> info.info("migrate", "a", "--report")).getMessage());
        assertFalse(Files.exists(dir.resolve("x.html")));
    }
}
