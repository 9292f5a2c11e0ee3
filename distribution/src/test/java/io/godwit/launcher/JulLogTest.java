package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class JulLogTest {

    @Test
    void linesHaveSlf4jSimplesShapeAndALevelSetLaterAppliesToALoggerMadeBefore() throws Exception {
        Path file;
        try (HostLog log = HostLog.open(file = Files.createTempFile("jullog", ".log"))) {
            Logger made = Logger.getLogger("io.godwit.test.jul.Made");
            made.fine("before");
            JulLog.applyStartLevels(Map.of(JulLog.LOGGER_LEVEL + "io.godwit.test.jul", "debug",
                    JulLog.LOGGER_LEVEL + "io.godwit.test.bad", "loud"), log);
            made.fine("after");
            made.log(Level.WARNING, "warned", new IllegalStateException("why"));
        }
        String text = Files.readString(file);
        Files.delete(file);
        assertTrue(!text.contains("before"), text);
        assertTrue(text.matches("(?s).*\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[[^]]+\\] DEBUG io\\.godwit\\.test\\.jul\\.Made - after\\R.*"), text);
        assertTrue(text.contains("WARN io.godwit.test.jul.Made - warned"), text);
        assertTrue(text.contains("java.lang.IllegalStateException: why"), text);
        assertTrue(text.contains("org.slf4j.simpleLogger.log.io.godwit.test.bad = loud: not a level"), text);
        assertNull(Logger.getLogger("io.godwit.test.bad").getLevel());
    }

    @Test
    void slf4jNamesRoundTrip() {
        for (String name : new String[] {"trace", "debug", "info", "warn", "error"}) {
            assertEquals(name.toUpperCase(), JulLog.slf4jName(JulLog.level(name)));
        }
        assertNull(JulLog.level("verbose"));
    }
}
