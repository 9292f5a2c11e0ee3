package io.godwit.api.vm;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as users write them (QEMU's {@code -m}): a number with an optional suffix K, M, G or T
 * (powers of 1024, an optional trailing {@code B} or {@code iB}); a bare number means MiB.
 */
public final class ByteSize {

    private static final Pattern SIZE =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]?)(I?B)?", Pattern.CASE_INSENSITIVE);

    private ByteSize() {}

    /**
     * Parses {@code 2G}, {@code 512M}, {@code 64k}, {@code 1.5G} or {@code 256} (MiB).
     *
     * @throws IllegalArgumentException with a one-line message when the text is not a size
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "invalid size '" + text + "': use a number with K, M, G or T (a bare number is MiB)");
        }
        int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "G" -> 30;
            case "T" -> 40;
            default -> 20; // "M" or none
        };
        double value = Double.parseDouble(m.group(1));
        double bytes = value * (1L << shift);
        if (bytes >= 0x1p62) {
            throw new IllegalArgumentException("invalid size '" + text + "': too large");
        }
        return (long) bytes;
    }

    /** Formats {@code bytes} as {@code 2 GiB}, {@code 1.5 GiB} or {@code 4096 bytes}. */
    public static String format(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%d %s", (long) v, units[u])
                : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
