package io.godwit.shell.internal;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.LoggerFactory;

/**
 * The host's log levels, from the configuration {@value #PID} ({@code etc/io.godwit.log.cfg}): one
 * line per logger, {@code io.godwit.coordinator = debug}, and {@code root} for every logger that has
 * no level of its own. Levels are slf4j's: trace, debug, info, warn, error, off.
 *
 * <p>The host's slf4j provider is slf4j-jdk14, and a java.util.logging logger asks for its level at
 * every call, so an edit applies at once to loggers that exist already, with no restart. A logger
 * whose line goes from the file (or the file itself) gets back the level it had before this set it
 * (the launcher's start-up level, or none). A line that cannot be used is skipped with a warning.
 * SCR calls {@link #configure} on its own thread, one call at a time.
 */
@Component(immediate = true, configurationPid = LogLevels.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class LogLevels {

    /** The configuration, and so the file {@code etc/io.godwit.log.cfg}. */
    static final String PID = "io.godwit.log";

    /** The key for the root logger. */
    static final String ROOT = "root";

    /** What ConfigAdmin, FileInstall and SCR add to every configuration; not logger names. */
    private static final String[] NOT_LOGGERS = {"service.", "component.", "felix.fileinstall.", "osgi."};

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(LogLevels.class);

    /**
     * The loggers this has set, with the level each had before (empty: none). Holding them also
     * keeps their levels: JUL forgets the level of a logger nobody holds.
     */
    private final Map<Logger, Optional<Level>> touched = new HashMap<>();

    @Activate
    public LogLevels(Map<String, Object> config) {
        configure(config);
    }

    /** The configuration changed (or went: then {@code config} holds only SCR's own properties). */
    @Modified
    synchronized void configure(Map<String, Object> config) {
        Map<String, Level> wanted = levels(config);
        touched.entrySet().removeIf(e -> {
            if (wanted.containsKey(name(e.getKey()))) {
                return false;
            }
            e.getKey().setLevel(e.getValue().orElse(null));
            return true;
        });
        wanted.forEach((name, level) -> {
            Logger logger = Logger.getLogger(name);
            touched.putIfAbsent(logger, Optional.ofNullable(logger.getLevel()));
            if (!level.equals(logger.getLevel())) {
                logger.setLevel(level);
                LOG.info("{}: {} = {}", PID, name.isEmpty() ? ROOT : name, level(level));
            }
        });
    }

    /** Puts back the levels this set: a host without this component logs as it started. */
    @Deactivate
    synchronized void deactivate() {
        configure(Map.of());
    }

    /** The levels of {@code config} by JUL logger name ("" is the root); bad lines are logged and left out. */
    static Map<String, Level> levels(Map<String, Object> config) {
        Map<String, Level> levels = new TreeMap<>();
        config.forEach((key, value) -> {
            for (String prefix : NOT_LOGGERS) {
                if (key.startsWith(prefix)) {
                    return;
                }
            }
            Level level = level(String.valueOf(value));
            if (level == null) {
                LOG.warn("{}: {} = {}: not a level (trace, debug, info, warn, error, off)", PID, key, value);
                return;
            }
            levels.put(key.equals(ROOT) ? "" : key, level);
        });
        return levels;
    }

    /** slf4j's level name, any case, as slf4j-jdk14 maps it to JUL; null if it is none. */
    static Level level(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "trace" -> Level.FINEST;
            case "debug" -> Level.FINE;
            case "info" -> Level.INFO;
            case "warn" -> Level.WARNING;
            case "error" -> Level.SEVERE;
            case "off" -> Level.OFF;
            default -> null;
        };
    }

    private static String level(Level level) {
        return switch (level.getName()) {
            case "FINEST" -> "trace";
            case "FINE" -> "debug";
            case "WARNING" -> "warn";
            case "SEVERE" -> "error";
            default -> level.getName().toLowerCase(Locale.ROOT);
        };
    }

    private static String name(Logger logger) {
        return logger.getName();
    }
}
