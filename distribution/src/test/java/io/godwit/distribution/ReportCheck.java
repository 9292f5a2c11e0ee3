package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code info migrate --report FILE} after a real migration, opened in headless chromium: the page
 * loads with nothing in the console (its policy forbids any outside load, so one would show there),
 * and its charts have every series, a point or bar per pass of the migration the host recorded.
 */
final class ReportCheck {

    private static final Pattern WRITTEN = Pattern.compile("report: (\\S+) \\((\\d+) passes\\)");
    private static final Pattern ID = Pattern.compile("id=\"([^\"]+)\"([^>]*>)(<path d=\"([^\"]*)\")?");

    private ReportCheck() {}

    /** Writes {@code vm}'s report on {@code source} into {@code dir} and checks it in the browser; returns it. */
    static Path check(HostProcess source, String vm, Path dir) throws Exception {
        String out = source.run("info migrate " + vm + " --report " + dir.resolve("report.html")).ok().out();
        Matcher m = WRITTEN.matcher(out);
        assertTrue(m.find(), "no report written:\n" + out);
        Path page = Path.of(m.group(1));
        int passes = Integer.parseInt(m.group(2));
        assertTrue(passes >= 1 && Files.size(page) > 0, out);
        HeadlessChromium chromium = HeadlessChromium.find().orElse(null);
        Assumptions.assumeTrue(chromium != null, HeadlessChromium.MISSING); // callers check first, before a migration
        HeadlessChromium.Page loaded = chromium.load(page);
        assertEquals(List.of(), loaded.console(), "the report's console");
        Map<String, Integer> series = series(loaded.dom());
        for (String line : List.of("rates-dirty-rate", "rates-bandwidth", "downtime-downtime-limit", "throttle-cpu-throttle")) {
            assertEquals(passes, series.getOrDefault(line, 0), line + ": one point per pass in " + series);
        }
        for (int pass = 1; pass <= passes; pass++) {
            assertTrue(series.containsKey("bytes-bytes-sent-pass-" + pass), "bar of pass " + pass + " in " + series);
        }
        for (String bar : List.of("bytes-bytes-sent-switchover", "switchover-downtime-limit-switchover",
                "switchover-downtime-source-switchover", "switchover-observed-downtime-guest-switchover")) {
            assertTrue(series.containsKey(bar), bar + " in " + series);
        }
        return page;
    }

    /**
     * The elements with an id in a DOM as chromium dumps it: a series' line (a group holding its path)
     * with the number of points on the path, anything else (a bar) with 1.
     */
    static Map<String, Integer> series(String dom) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        Matcher m = ID.matcher(dom);
        while (m.find()) {
            String d = m.group(4);
            ids.put(m.group(1), d == null ? 1 : d.split("[ML]", -1).length - 1);
        }
        return ids;
    }
}
