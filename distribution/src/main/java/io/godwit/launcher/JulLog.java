package io.godwit.launcher;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * java.util.logging, the bundles' log backend (slf4j-jdk14 is the host's slf4j provider; FileInstall,
 * SPI Fly and JLine log there directly). Why JUL: a JUL logger asks for its level at every call, so a
 * level set while the host runs (the shell's {@code io.godwit.log} configuration, from
 * {@code etc/io.godwit.log.cfg}) applies to loggers that already exist; slf4j-simple fixed a
 * logger's level when the logger was made.
 *
 * <p>The JDK's default setup is replaced: its console handler would capture whatever
 * {@code System.err} is when it is first used, which inside a Gogo command is that command's output.
 * The one handler here writes every record that passes its logger's level to the host's log stream,
 * in slf4j-simple's line shape, with slf4j's level names.
 */
final class JulLog {

    /** The start-up levels, kept from slf4j-simple's property names so that old JAVA_OPTS still work. */
    static final String DEFAULT_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";
    static final String LOGGER_LEVEL = "org.slf4j.simpleLogger.log.";

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    /** JUL forgets the level of a logger nobody holds; these are held for the life of the process. */
    private static final List<Logger> HELD = new ArrayList<>();

    private JulLog() {
    }

    /** Sends all of JUL to {@code stream}, at INFO unless the start-up levels say otherwise. */
    static void install(PrintStream stream) {
        LogManager.getLogManager().reset(); // also keeps the JDK's console handler from being made later
        Logger root = Logger.getLogger("");
        root.setLevel(Level.INFO);
        root.addHandler(new StreamHandler(stream));
    }

    /** Applies the start-up levels of the configuration (a bad value is logged and skipped). */
    static synchronized void applyStartLevels(Map<String, String> config, HostLog log) {
        config.forEach((key, value) -> {
            String name = key.equals(DEFAULT_LEVEL) ? "" : key.startsWith(LOGGER_LEVEL) ? key.substring(LOGGER_LEVEL.length()) : null;
            if (name == null) {
                return;
            }
            Level level = level(value);
            if (level == null) {
                log.warn(key + " = " + value + ": not a level (trace, debug, info, warn, error, off)", null);
                return;
            }
            Logger logger = Logger.getLogger(name);
            logger.setLevel(level);
            HELD.add(logger);
        });
    }

    /** slf4j's level name (any case) as slf4j-jdk14 maps it to JUL, or null. */
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

    /** JUL's level back in slf4j's words, as the log lines show it. */
    static String slf4jName(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (v >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (v >= Level.INFO.intValue()) {
            return "INFO";
        }
        return v >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
    }

    /** One line per record, as slf4j-simple wrote them: time [thread] LEVEL logger - message. */
    static final class LineFormatter extends Formatter {
        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder(128)
                    .append(TIME.format(Instant.ofEpochMilli(record.getMillis())))
                    // Handlers run on the logging thread, so this is the thread that logged.
                    .append(" [").append(Thread.currentThread().getName()).append("] ")
                    .append(slf4jName(record.getLevel())).append(' ')
                    .append(record.getLoggerName() == null ? "" : record.getLoggerName()).append(" - ")
                    .append(formatMessage(record)).append(System.lineSeparator());
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.append(trace);
            }
            return line.toString();
        }
    }

    /** Writes and flushes each record at once, under the stream's lock as {@link HostLog} does. */
    private static final class StreamHandler extends Handler {
        private final PrintStream stream;

        StreamHandler(PrintStream stream) {
            this.stream = stream;
            setFormatter(new LineFormatter());
            setLevel(Level.ALL); // the loggers' levels decide
        }

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) {
                return;
            }
            String line = getFormatter().format(record);
            synchronized (stream) {
                stream.print(line);
                stream.flush();
            }
        }

        @Override
        public void flush() {
            stream.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
