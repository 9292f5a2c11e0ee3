package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationInfo.RamStats;
import io.godwit.api.migration.MigrationStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a migration reads on the shell: the {@code info migrate} report (QEMU's fields, human units)
 * and the progress {@code migrate} shows while it waits, as a redrawn bar or as plain lines.
 */
final class MigrationReport {

    /** Width of the value column's start in {@link #info}: the longest label plus one space. */
    private static final int LABEL = "observed downtime: ".length();

    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

    private MigrationReport() {}

    /**
     * The {@code info migrate} text: QEMU's {@code Migration status:} line, then the times (those
     * not known, -1, are left out), the RAM counters (once past setup) and, when set, the
     * throttle, the listening address and the error.
     */
    static String info(MigrationInfo i) {
        StringBuilder out = new StringBuilder("Migration status: ").append(i.status());
        if (i.status() == MigrationStatus.NONE) {
            return out.toString();
        }
        time(out, "total time", i.totalTimeMs(), "");
        time(out, "setup time", i.setupTimeMs(), "");
        if (i.status() == MigrationStatus.ACTIVE) {
            time(out, "expected downtime", i.expectedDowntimeMs(), "");
        }
        time(out, "downtime", i.downtimeMs(), " (source: vCPUs stopped until the last byte was sent)");
        time(out, "observed downtime", i.observedDowntimeMs(), " (guest: source stop to destination resume)");
        RamStats r = i.ram();
        if (i.status() != MigrationStatus.SETUP) { // as QEMU: no RAM counters before the first pass
            ram(out, r);
        }
        multifd(out, i.multifd());
        postcopy(out, i.postcopy());
        xbzrle(out, i.xbzrle());
        time(out, "verify-ram", i.verifyRamMs(), " (page digests on this side, taken as pages went)");
        if (i.stall() != null) {
            line(out, "stall", i.stall());
        }
        if (i.throttlePercent() > 0) {
            line(out, "cpu throttle", i.throttlePercent() + " %");
        }
        if (i.listenUri() != null) {
            line(out, "socket address", i.listenUri());
        }
        if (i.error() != null) {
            line(out, "error", i.error());
        }
        return out.toString();
    }

    /** QEMU's multifd-bytes with the channel count, and with compression what the pages took on the wire. */
    private static void multifd(StringBuilder out, MigrationInfo.MultifdInfo m) {
        if (m.channels() == 0) {
            return;
        }
        line(out, "multifd", m.channels() + " channel(s), " + compact(m.bytes()) + " carried");
        if (!m.compression().equals("none")) {
            line(out, "compression", String.format(Locale.ROOT, "%s: %s of pages in %s, ratio %.2f", m.compression(),
                    compact(m.pageBytes()), compact(m.compressedBytes()), m.compressionRatio()));
        }
    }

    /** QEMU's postcopy-requests, postcopy-blocktime, postcopy-vcpu-blocktime and the latency, when postcopy ran. */
    private static void postcopy(StringBuilder out, io.godwit.api.memory.PostcopyStats p) {
        if (p.requests() == 0 && p.faults() == 0) {
            return;
        }
        if (p.vcpuBlocktimeMs().isEmpty()) { // the source's side: it answers them
            line(out, "postcopy requests", p.requests() + " pages (asked for by the destination, sent first)");
            return;
        }
        line(out, "postcopy requests", p.requests() + " pages (the guest faulted on them)");
        line(out, "postcopy blocktime", p.blocktimeMs() + " ms (some vCPU waited for a page)");
        line(out, "vcpu blocktime", p.vcpuBlocktimeMs().stream().map(ms -> ms + " ms")
                .collect(java.util.stream.Collectors.joining(", ")));
        line(out, "fault latency", "median " + p.latencyMedianUs() + " us; " + histogram(p.latencyBuckets()));
    }

    /** QEMU's xbzrle lines of {@code info migrate}, when XBZRLE is on. */
    private static void xbzrle(StringBuilder out, MigrationInfo.XbzrleStats x) {
        if (x.cacheSize() == 0) {
            return;
        }
        line(out, "cache size", Sizes.format(x.cacheSize()));
        line(out, "xbzrle transferred", Sizes.format(x.bytes()));
        line(out, "xbzrle pages", x.pages() + " pages");
        line(out, "xbzrle cache miss", x.cacheMiss() + " pages");
        line(out, "xbzrle cache miss rate", String.format(Locale.ROOT, "%.2f", x.cacheMissRate()));
        line(out, "xbzrle encoding rate", String.format(Locale.ROOT, "%.2f", x.encodingRate()));
        line(out, "xbzrle overflow", String.valueOf(x.overflow()));
    }

    /** The latency histogram as QEMU's buckets, {@code [2^N, 2^(N+1)) us}, the non-empty ones. */
    private static String histogram(List<Long> buckets) {
        List<String> parts = new ArrayList<>();
        for (int n = 0; n < buckets.size(); n++) {
            if (buckets.get(n) > 0) {
                parts.add("<" + (1L << (n + 1)) + " us: " + buckets.get(n));
            }
        }
        return String.join(", ", parts);
    }

    private static void ram(StringBuilder out, RamStats r) {
        line(out, "transferred ram", Sizes.format(r.transferred()));
        line(out, "remaining ram", Sizes.format(r.remaining()));
        line(out, "total ram", Sizes.format(r.total()));
        line(out, "duplicate", r.duplicate() + " pages (zero pages, sent without their bytes)");
        line(out, "normal", r.normal() + " pages");
        line(out, "normal bytes", Sizes.format(r.normalBytes()));
        line(out, "dirty sync count", String.valueOf(r.dirtySyncCount()));
        line(out, "dirty pages rate", r.dirtyPagesRate() + " pages/s");
        line(out, "throughput", String.format(Locale.ROOT, "%.2f mbps", r.mbps()));
        line(out, "pages per second", String.valueOf(r.pagesPerSecond()));
        phaseBytes(out, r);
    }

    /** QEMU's precopy, downtime and postcopy ram (each when not 0, as QEMU) and the page size. */
    private static void phaseBytes(StringBuilder out, RamStats r) {
        if (r.precopyBytes() > 0) {
            line(out, "precopy ram", Sizes.format(r.precopyBytes()) + " (sent while the guest ran here)");
        }
        if (r.downtimeBytes() > 0) {
            line(out, "downtime ram", Sizes.format(r.downtimeBytes()) + " (sent in the stop-and-copy)");
        }
        if (r.postcopyBytes() > 0) {
            line(out, "postcopy ram", Sizes.format(r.postcopyBytes()) + " (sent from postcopy's stop on)");
        }
        line(out, "page size", Sizes.format(r.pageSize()));
    }

    private static void time(StringBuilder out, String label, long ms, String note) {
        if (ms >= 0) {
            line(out, label, ms + " ms" + note);
        }
    }

    private static void line(StringBuilder out, String label, String value) {
        String l = label + ":";
        out.append('\n').append(l).append(" ".repeat(Math.max(1, LABEL - l.length()))).append(value);
    }

    /**
     * How much of the guest's RAM is already current at the destination, 0 to 100: in the first
     * pass the share sent, later the share not dirty again. -1 when the RAM size is not known.
     */
    static int percent(MigrationInfo i) {
        RamStats r = i.ram();
        if (i.status() == MigrationStatus.COMPLETED) {
            return 100;
        }
        if (r.total() <= 0) {
            return -1;
        }
        if (i.status() == MigrationStatus.SETUP) {
            return 0;
        }
        long current = Math.max(0, r.total() - r.remaining());
        return (int) Math.min(100, current * 100 / r.total()); // rounds down: 100 % only when nothing remains
    }

    /** {@code [#####.....]}: ten cells, one per 10 %. */
    static String bar(int percent) {
        int filled = Math.max(0, Math.min(10, percent / 10));
        return "[" + "#".repeat(filled) + ".".repeat(10 - filled) + "]";
    }

    /**
     * The progress line redrawn on a terminal, at most {@code width - 1} characters (a line that
     * wraps cannot be redrawn with {@code '\r'}): fields are left out, least telling first, until
     * it fits.
     */
    static String progressLine(MigrationInfo i, String vm, int width) {
        int percent = percent(i);
        RamStats r = i.ram();
        // Priority 0 is always shown; the highest goes first when the line is too long.
        List<Field> fields = new ArrayList<>();
        fields.add(new Field(percent < 0 ? bar(0) : bar(percent) + String.format(Locale.ROOT, " %3d%%", percent), 0));
        if (i.status() == MigrationStatus.SETUP) {
            return fields.getFirst().text() + "  setup";
        }
        String state = stateNote(i.status(), vm);
        if (state != null) {
            fields.add(new Field(state, 0));
        }
        if (r.dirtySyncCount() > 0) {
            fields.add(new Field("pass " + r.dirtySyncCount(), 1));
        }
        fields.add(new Field(compact(r.transferred()) + " sent", 4));
        fields.add(new Field(compact(r.remaining()) + " remaining", 2));
        fields.add(new Field(rate(r.mbps()), 3));
        if (i.expectedDowntimeMs() >= 0) {
            fields.add(new Field("expected downtime " + i.expectedDowntimeMs() + " ms", 2));
        }
        String line = "";
        for (int keep = 4; keep >= 0; keep--) {
            int k = keep;
            line = String.join("  ", fields.stream().filter(f -> f.priority <= k).map(Field::text).toList());
            if (line.length() < width) {
                return line;
            }
        }
        return line.substring(0, Math.max(0, width - 1));
    }

    private record Field(String text, int priority) {}

    /** One line per pass for output that is not a terminal. */
    static String passLine(MigrationInfo i) {
        RamStats r = i.ram();
        StringBuilder line = new StringBuilder("pass ").append(r.dirtySyncCount()).append(": ");
        int percent = percent(i);
        if (percent >= 0) {
            line.append(percent).append("% current, ");
        }
        line.append(compact(r.transferred())).append(" sent, ")
                .append(compact(r.remaining())).append(" remaining, ")
                .append(rate(r.mbps()));
        if (i.expectedDowntimeMs() >= 0) {
            line.append(", expected downtime ").append(i.expectedDowntimeMs()).append(" ms");
        }
        return line.toString();
    }

    /** What a state other than setup and active means for the user, or null for those two. */
    static String stateNote(MigrationStatus status, String vm) {
        return switch (status) {
            case SETUP, ACTIVE -> null;
            case PRE_SWITCHOVER -> "pre-switchover: waiting for migrate_continue " + vm;
            case DEVICE -> "device: switching over";
            default -> status.qemuName();
        };
    }

    /** Bytes in a short form: one decimal below 10 units, none above ({@code 1.2 GiB}, {@code 456 MiB}). */
    static String compact(long bytes) {
        int unit = 0;
        double value = bytes;
        while (unit < UNITS.length - 1 && Math.abs(value) >= 1024) {
            value /= 1024;
            unit++;
        }
        String number = unit > 0 && Math.abs(value) < 10
                ? String.format(Locale.ROOT, "%.1f", value)
                : String.format(Locale.ROOT, "%.0f", value);
        return number + " " + UNITS[unit];
    }

    /** QEMU's mbps (10^6 bits per second) as bytes per second in binary units: {@code 1.4 GiB/s}. */
    static String rate(double mbps) {
        return compact(Math.round(mbps * 1e6 / 8)) + "/s";
    }
}
