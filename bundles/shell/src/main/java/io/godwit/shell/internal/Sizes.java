package io.godwit.shell.internal;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory sizes as the shell reads and prints them.
 *
 * <p>Reading follows QEMU's {@code -m}: a bare number is MiB; a suffix K, M, G or T (binary units,
 * optionally spelled KB/KiB, any case) scales it; B means bytes. Fractions such as {@code 1.5G} are
 * allowed when they come to whole bytes. Printing uses binary units: {@code 2 GiB}, {@code 1.5 GiB}.
 */
final class Sizes {

    private static final Pattern SIZE =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(?:([KMGT])(?:I?B)?|(B))?", Pattern.CASE_INSENSITIVE);
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

    private Sizes() {}

    /**
     * Parses a size.
     *
     * @throws IllegalArgumentException with a one-line message when the text is not a size
     */
    static long parse(String text) {
        String s = text == null ? "" : text.strip();
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "invalid size '" + s + "': use a number with K, M, G or T (a bare number is MiB)");
        }
        int shift;
        if (m.group(3) != null) {
            shift = 0;
        } else if (m.group(2) == null) {
            shift = 20; // QEMU's -m: a bare number is MiB
        } else {
            shift = 10 * ("KMGT".indexOf(m.group(2).toUpperCase(Locale.ROOT)) + 1);
        }
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(2).pow(shift));
        try {
            return bytes.longValueExact();
        } catch (ArithmeticException e) {
            boolean fraction = bytes.stripTrailingZeros().scale() > 0;
            throw new IllegalArgumentException(
                    "invalid size '" + s + "': " + (fraction ? "not a whole number of bytes" : "too large"));
        }
    }

    /** Formats bytes in the largest binary unit that keeps the number at least 1, e.g. {@code 2 GiB}. */
    static String format(long bytes) {
        int unit = 0;
        while (unit < UNITS.length - 1 && Math.abs(bytes) >= 1L << (10 * (unit + 1))) {
            unit++;
        }
        BigDecimal value = BigDecimal.valueOf(bytes)
                .divide(BigDecimal.valueOf(1L << (10 * unit)))
                .setScale(2, RoundingMode.HALF_UP)
                .stripTrailingZeros();
        return value.toPlainString() + " " + UNITS[unit];
    }
}
