package io.godwit.api.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrintableTest {

    @Test
    void controlsBidiAndInvisibleCharactersAreShownNotObeyed() {
        assertEquals("\\x1b[2J\\x07 \\x7f\\x9b \\x0a", Printable.escape("\u001b[2J\u0007 \u007f\u009b \n"));
        // RIGHT-TO-LEFT OVERRIDE, isolates, zero-width space and joiner, BOM, soft hyphen: category Cf
        assertEquals("invoice\\u202efdp.exe", Printable.escape("invoice\u202efdp.exe"));
        assertEquals("\\u2066a\\u2069 \\u200bb\\u200d \\ufeff \\xad", Printable.escape("\u2066a\u2069 \u200bb\u200d \ufeff \u00ad"));
        // a tag character (Cf, outside the BMP), a line separator, a lone surrogate, private use
        assertEquals("\\U000e0041 \\u2028 \\ud800 \\ue000", Printable.escape("\udb40\udc41 \u2028 \ud800 \ue000"));
    }

    @Test
    void printableTextIsKeptAsItIs() {
        String s = "device dev0 (test-dev): état \ufffd 'ok' \\x1b 日本 \ud83d\ude00";
        assertSame(s, Printable.escape(s));
        assertNull(Printable.escape(null));
    }

    @Test
    void consoleTextKeepsItsLinesAndNothingElse() {
        assertEquals("hash: 0f\n\tok\nnext\\x0dover \\x1b]0;title\\x07",
                Printable.escapeKeepingLines("hash: 0f\r\n\tok\nnext\rover \u001b]0;title\u0007"));
    }

    @Test
    void longTextIsCutWithAMarker() {
        String cut = Printable.bound("x".repeat(1 << 20), 300);
        assertTrue(cut.length() <= 300, cut.length() + "");
        assertTrue(cut.endsWith("...[" + ((1 << 20) - 268) + " more characters]"), cut.substring(250));
        assertSame("short", Printable.bound("short", 300));
        String pair = "a".repeat(267) + "\ud83d\ude00" + "b".repeat(100);
        assertTrue(Printable.bound(pair, 300).startsWith("a".repeat(267) + "..."), "a pair is not split");
    }
}
