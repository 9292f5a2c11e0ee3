package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class LogLevelsTest {

    private static final String NAME = "io.godwit.shell.test.loglevels";

    @Test
    void anEditChangesALoggerThatExistsAndARemovedLineGivesItsLevelBack() {
        Logger logger = Logger.getLogger(NAME); // made before the configuration, as a bundle's logger is
        logger.setLevel(Level.WARNING);
        assertFalse(logger.isLoggable(Level.FINE));

        LogLevels levels = new LogLevels(Map.of(NAME, "debug", "component.name", LogLevels.PID,
                "felix.fileinstall.filename", "file:/etc/io.godwit.log.cfg"));
        assertTrue(logger.isLoggable(Level.FINE), "debug after the configuration");
        assertFalse(logger.isLoggable(Level.FINEST));

        levels.configure(Map.of(NAME, "ERROR"));
        assertFalse(logger.isLoggable(Level.WARNING), "error after the edit");

        levels.configure(Map.of());
        assertEquals(Level.WARNING, logger.getLevel(), "the level it had before comes back");
    }

    @Test
    void aBadLevelIsSkippedAndTheOthersApply() {
        String other = NAME + ".other";
        Logger logger = Logger.getLogger(other);
        assertNull(logger.getLevel());
        LogLevels levels = new LogLevels(Map.of(other, "trace", NAME + ".bad", "loud"));
        assertEquals(Level.FINEST, logger.getLevel());
        assertNull(Logger.getLogger(NAME + ".bad").getLevel());
        levels.deactivate();
        assertNull(logger.getLevel(), "a logger without a level before has none again");
    }

    @Test
    void rootNamesTheRootLogger() {
        Logger root = Logger.getLogger("");
        Level before = root.getLevel();
        LogLevels levels = new LogLevels(Map.of("root", "off"));
        try {
            assertEquals(Level.OFF, root.getLevel());
        } finally {
            levels.deactivate();
        }
        assertEquals(before, root.getLevel());
    }
}
