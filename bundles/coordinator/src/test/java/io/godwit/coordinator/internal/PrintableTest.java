package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrintableTest {

    @Test
    void controlCharactersFromThePeerAreShownNotObeyed() {
        assertEquals("subsection '\\x1b[2J\\x07x' is truncated", Printable.of("subsection '\u001b[2J\u0007x' is truncated"));
        assertEquals("a\\x7fb\\x9bc\\x0a", Printable.of("a\u007fb\u009bc\n"));
    }

    @Test
    void printableTextIsKeptAsItIs() {
        String s = "device dev0 (test-dev): état \ufffd 'ok'";
        assertSame(s, Printable.of(s));
        assertNull(Printable.of(null));
    }

    @Test
    void bidiAndFormatCharactersAreEscapedAndAPeersMegabyteIsCut() {
        assertEquals("device '\\u202eexe.txt' \\u200b", Printable.of("device '\u202eexe.txt' \u200b"));
        String huge = Printable.of("x".repeat(1 << 20));
        assertTrue(huge.length() <= Printable.MAX_MESSAGE, huge.length() + " characters");
        assertTrue(huge.endsWith(" more characters]"), huge.substring(huge.length() - 40));
        String name = Printable.quote("\u001b" + "n".repeat(1000));
        assertTrue(name.startsWith("\\x1bnnn") && name.length() <= Printable.MAX_QUOTED, name);
    }
}
