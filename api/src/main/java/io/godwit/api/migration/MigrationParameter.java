package io.godwit.api.migration;

import java.util.Arrays;
import java.util.Optional;

/** Migration parameters, by QEMU's names, each a whole number with a unit and a range. */
public enum MigrationParameter {
    /** Longest acceptable stop-and-copy, in ms. Godwit keeps it as a promise, not a budget. */
    DOWNTIME_LIMIT("downtime-limit", "ms", 300, 0, 2_000_000),
    /** Bandwidth cap for precopy in bytes per second; 0 means unlimited (QEMU 7.2 defaults to 128 MiB/s). */
    MAX_BANDWIDTH("max-bandwidth", "bytes/s", 0, 0, Long.MAX_VALUE),
    /**
     * QEMU's: bandwidth cap for postcopy's background page stream in bytes per second; 0 means
     * unlimited (the default). Pages the destination asked for go first either way.
     */
    MAX_POSTCOPY_BANDWIDTH("max-postcopy-bandwidth", "bytes/s", 0, 0, Long.MAX_VALUE),
    /** First throttle step of auto-converge, in percent. */
    CPU_THROTTLE_INITIAL("cpu-throttle-initial", "%", 20, 1, 99),
    /** Throttle increment of auto-converge, in percent. */
    CPU_THROTTLE_INCREMENT("cpu-throttle-increment", "%", 10, 1, 99),
    /** Highest throttle auto-converge uses, in percent. */
    MAX_CPU_THROTTLE("max-cpu-throttle", "%", 99, 1, 99),
    /**
     * Godwit's own (libvirt's {@code --timeout-postcopy} and {@code --timeout-suspend}, built in): what a
     * precopy that has stalled does. One of {@link #STALL_ACTIONS}: {@code none} (go on, as QEMU does),
     * {@code throttle} (auto-converge from now on), {@code postcopy} (switch to postcopy by itself; needs
     * postcopy-ram: the recommended setting) or {@code cancel} (give up; the source runs on).
     */
    STALL_ACTION("stall-action", "", 0, 0, 3),
    /** A precopy has stalled when its pending data has not shrunk for this many passes... */
    STALL_PASSES("stall-passes", "passes", 10, 1, 1_000_000),
    /** ...or for this many seconds, whichever comes first. */
    STALL_SECONDS("stall-seconds", "s", 30, 1, 86_400),
    /** QEMU's: the XBZRLE page cache, in bytes; a power of two, at least a page (default 64 MiB). */
    XBZRLE_CACHE_SIZE("xbzrle-cache-size", "bytes", 64L << 20, 4096, 1L << 30),
    /** QEMU's: the data channels of a multifd migration, beside the main one (default 2). */
    MULTIFD_CHANNELS("multifd-channels", "channels", 2, 1, 64),
    /** QEMU's: how multifd compresses each batch of pages. One of {@link #MULTIFD_COMPRESSIONS}: none, zlib or zstd. */
    MULTIFD_COMPRESSION("multifd-compression", "", 0, 0, 2),
    /** QEMU's: the zlib level of multifd-compression zlib. */
    MULTIFD_ZLIB_LEVEL("multifd-zlib-level", "", 1, 1, 9),
    /** QEMU's: the zstd level of multifd-compression zstd. */
    MULTIFD_ZSTD_LEVEL("multifd-zstd-level", "", 1, 1, 20);

    /** The values of {@link #STALL_ACTION}, by number. */
    public static final java.util.List<String> STALL_ACTIONS = java.util.List.of("none", "throttle", "postcopy", "cancel");

    /** The values of {@link #MULTIFD_COMPRESSION}, by number. */
    public static final java.util.List<String> MULTIFD_COMPRESSIONS = java.util.List.of("none", "zlib", "zstd");

    /** The names a parameter that takes one of a list of words accepts, by number; null for a number. */
    public java.util.List<String> words() {
        return switch (this) {
            case STALL_ACTION -> STALL_ACTIONS;
            case MULTIFD_COMPRESSION -> MULTIFD_COMPRESSIONS;
            default -> null;
        };
    }

    private final String qemuName;
    private final String unit;
    private final long defaultValue;
    private final long min;
    private final long max;

    MigrationParameter(String qemuName, String unit, long defaultValue, long min, long max) {
        this.qemuName = qemuName;
        this.unit = unit;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
    }

    public String qemuName() {
        return qemuName;
    }

    public String unit() {
        return unit;
    }

    public long defaultValue() {
        return defaultValue;
    }

    /** Checks a value against the parameter's range. */
    public long check(long value) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(
                    qemuName + " must be between " + min + " and " + max + " " + unit + ", not " + value);
        }
        if (this == XBZRLE_CACHE_SIZE && Long.bitCount(value) != 1) {
            throw new IllegalArgumentException(qemuName + " must be a power of two, not " + value);
        }
        return value;
    }

    /** The parameter with this QEMU name. */
    public static Optional<MigrationParameter> byName(String name) {
        return Arrays.stream(values()).filter(p -> p.qemuName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return qemuName;
    }
}
