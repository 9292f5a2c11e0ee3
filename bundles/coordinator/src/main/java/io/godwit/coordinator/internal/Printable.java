package io.godwit.coordinator.internal;

/**
 * Text that came from the peer, made safe to print. Error messages quote what a stream said (a
 * subsection name, a VM name, the other side's own error), and a hostile stream could put terminal
 * escape sequences there that {@code info migrate} or the log would then replay on someone's
 * terminal. Control characters (C0, DEL, C1) become {@code \xNN}; everything else is kept.
 */
final class Printable {

    private Printable() {}

    static String of(String text) {
        if (text == null || text.chars().noneMatch(Printable::control)) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 16);
        text.chars().forEach(c -> {
            if (control(c)) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.append((char) c);
            }
        });
        return b.toString();
    }

    private static boolean control(int c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
    }
}
