package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Migration capabilities and parameters as the shell reads and prints them. */
final class MigrationSettings {

    /** The capabilities' names, for help texts (annotations need a constant; a test keeps it in step). */
    static final String CAPABILITIES =
            "events, return-path, validate-uuid, pause-before-switchover, verify-ram, auto-converge, copy-storage,"
                    + " postcopy-ram, mapped-ram, xbzrle, multifd";

    /** The parameters' names, for help texts. */
    static final String PARAMETERS =
            "downtime-limit, max-bandwidth, max-postcopy-bandwidth, cpu-throttle-initial, cpu-throttle-increment,"
                    + " max-cpu-throttle, stall-action, stall-passes, stall-seconds, xbzrle-cache-size, multifd-channels,"
                    + " multifd-compression, multifd-zlib-level, multifd-zstd-level, tls-creds, tls-hostname, tls-authz";

    private MigrationSettings() {}

    static MigrationCapability capability(String name) {
        return MigrationCapability.byName(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown migration capability '" + name + "': known are " + names(MigrationCapability.values())));
    }

    static MigrationParameter parameter(String name) {
        return MigrationParameter.byName(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown migration parameter '" + name + "': known are " + names(MigrationParameter.values())
                        + ", " + names(io.godwit.api.migration.MigrationTextParameter.values())));
    }

    static String names(Enum<?>[] values) {
        return Arrays.stream(values).map(Object::toString).collect(Collectors.joining(", "));
    }

    /** {@code on} or {@code off} as QEMU's HMP takes them; {@code true} and {@code false} too. */
    static boolean onOff(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new IllegalArgumentException("a capability is on or off, not '" + text + "'");
        };
    }

    static String onOff(boolean on) {
        return on ? "on" : "off";
    }

    /**
     * A parameter's value in its unit, checked against its range. {@code max-bandwidth} reads as
     * QEMU's HMP reads it: a size per second where a bare number is MiB ({@code 100} and
     * {@code 100M} are 100 MiB/s, {@code 1000000B} is bytes); the others are whole numbers.
     */
    static long parse(MigrationParameter p, String text) {
        long value;
        if (p.words() != null) {
            value = p.words().indexOf(text.strip());
            if (value < 0) {
                throw new IllegalArgumentException("invalid " + p + " '" + text + "': use one of "
                        + String.join(", ", p.words())
                        + (p == MigrationParameter.STALL_ACTION ? " (postcopy is recommended)" : ""));
            }
        } else if (p == MigrationParameter.XBZRLE_CACHE_SIZE) {
            try {
                value = Sizes.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid " + p + " '" + text + "': use bytes with K, M or G, e.g."
                        + " 64M (a bare number is MiB)");
            }
        } else if (p == MigrationParameter.MAX_BANDWIDTH || p == MigrationParameter.MAX_POSTCOPY_BANDWIDTH) {
            try {
                value = Sizes.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid " + p + " '" + text + "': use bytes per second with"
                        + " K, M, G or T, e.g. 100M (a bare number is MiB/s; 0 means unlimited)");
            }
        } else {
            try {
                value = Long.parseLong(text.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "invalid " + p + " '" + text + "': use a whole number of " + unitWord(p));
            }
        }
        return p.check(value);
    }

    private static String unitWord(MigrationParameter p) {
        return switch (p.unit()) {
            case "ms" -> "milliseconds";
            case "%" -> "percent";
            case "s" -> "seconds";
            default -> p.unit();
        };
    }

    /** A value with its unit, e.g. {@code 300 ms}, {@code 104857600 bytes/s (100 MiB/s)}, {@code 0 (unlimited)}. */
    static String format(MigrationParameter p, long value) {
        if (p.words() != null) {
            return p.words().get((int) value);
        }
        if (p == MigrationParameter.MAX_BANDWIDTH || p == MigrationParameter.MAX_POSTCOPY_BANDWIDTH) {
            return value == 0 ? "0 (unlimited)" : value + " bytes/s (" + Sizes.format(value) + "/s)";
        }
        if (p == MigrationParameter.XBZRLE_CACHE_SIZE) {
            return value + " bytes (" + Sizes.format(value) + ")";
        }
        return p.unit().isEmpty() ? Long.toString(value) : value + " " + p.unit();
    }
}
