package io.godwit.api.text;

/**
 * Text that came from a guest (its console) or from the other host of a migration (names, errors),
 * made safe to print. Such text could carry terminal escape sequences that a terminal would obey
 * (clear the screen, retitle the window, rewrite what was printed before), bidi overrides that make
 * it read differently from what it is (U+202E), or invisible characters that hide part of it. Each
 * such character becomes an escape: {@code \xNN} for C0, DEL and C1 controls, {@code \\uXXXX} or
 * {@code \\UXXXXXXXX} for the others: format characters (Unicode category Cf: bidi embeddings,
 * overrides and isolates, zero-width characters, the BOM, tags), line and paragraph separators, lone
 * surrogates, private-use and unassigned code points. Everything else, including a backslash, is kept.
 *
 * <p>Stateless; any thread.
 */
public final class Printable {

    private Printable() {}

    /** {@code text} with every character that is not safe to print escaped; null stays null. */
    public static String escape(String text) {
        return escape(text, false);
    }

    /**
     * As {@link #escape} but keeps line breaks, for multi-line text such as a guest's console: a
     * {@code \n} is kept and a {@code \r\n} becomes {@code \n} (a lone {@code \r}, which would let a
     * later line overwrite an earlier one, is escaped). Tabs are kept too.
     */
    public static String escapeKeepingLines(String text) {
        return escape(text, true);
    }

    /**
     * {@code text} cut to at most {@code max} characters (not splitting a surrogate pair), ending
     * with a marker that says how many were left out; shorter text is returned as it is.
     */
    public static String bound(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int keep = Math.max(0, max - 32);
        if (keep > 0 && Character.isHighSurrogate(text.charAt(keep - 1))) {
            keep--;
        }
        return text.substring(0, keep) + "...[" + (text.length() - keep) + " more characters]";
    }

    private static String escape(String text, boolean keepLines) {
        if (text == null || text.codePoints().allMatch(c -> safe(c, keepLines))) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (keepLines && c == '\r' && i < text.length() && text.charAt(i) == '\n') {
                continue; // the \n that follows is kept
            }
            if (safe(c, keepLines)) {
                b.appendCodePoint(c);
            } else if (c < 0x100) {
                b.append(String.format("\\x%02x", c));
            } else if (c < 0x10000) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.append(String.format("\\U%08x", c));
            }
        }
        return b.toString();
    }

    private static boolean safe(int c, boolean keepLines) {
        if (c >= 0x20 && c < 0x7f) {
            return true;
        }
        if (keepLines && (c == '\n' || c == '\t')) {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED -> false;
            default -> true;
        };
    }
}
