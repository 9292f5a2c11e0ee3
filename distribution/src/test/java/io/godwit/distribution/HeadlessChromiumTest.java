package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The browser check the migration report relies on ({@link ReportCheck}) must be able to fail: a page
 * that logs an error and tries to load from outside shows both in the console, and its DOM is there.
 */
class HeadlessChromiumTest {

    @TempDir
    Path dir;

    @Test
    void theConsoleShowsAScriptErrorAndABlockedLoad() throws Exception {
        HeadlessChromium chromium = HeadlessChromium.find().orElse(null);
        Assumptions.assumeTrue(chromium != null, HeadlessChromium.MISSING);
        Path page = Files.writeString(dir.resolve("bad.html"), "<!DOCTYPE html><html><head><meta http-equiv="
                + "\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
                + "<svg id='c'><g id='c-s'><path d='M0,0L1,1'/></g></svg><img src='http://127.0.0.1:9/x.png'>"
                + "<script>console.error('boom')</script></body></html>");
        HeadlessChromium.Page p = chromium.load(page);
        assertEquals(2, p.console().size(), String.join("\n", p.console()));
        assertTrue(p.console().stream().anyMatch(l -> l.contains("boom")), String.join("\n", p.console()));
        assertTrue(p.console().stream().anyMatch(l -> l.contains("Content Security Policy")), String.join("\n", p.console()));
        assertTrue(ReportCheck.series(p.dom()).containsKey("c-s"), p.dom());
    }
}
