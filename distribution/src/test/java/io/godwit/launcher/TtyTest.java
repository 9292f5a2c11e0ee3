package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What the launcher tells the shell about its stdout, and how it finds out. */
class TtyTest {

    @Test
    void terminalDevicesAreTheTtysAndNothingElse() {
        assertTrue(Tty.isTerminalDevice("/dev/pts/3"));
        assertTrue(Tty.isTerminalDevice("/dev/tty1"));
        assertTrue(Tty.isTerminalDevice("/dev/ttyS0"));
        assertTrue(Tty.isTerminalDevice("/dev/console"));
        assertFalse(Tty.isTerminalDevice("pipe:[123456]"));
        assertFalse(Tty.isTerminalDevice("socket:[42]"));
        assertFalse(Tty.isTerminalDevice("/dev/null"));
        assertFalse(Tty.isTerminalDevice("/tmp/out.txt"));
    }

    @Test
    void theWidthComesFromColumnsThenSttyThenTheDefault() {
        assertEquals(132, Tty.columns("132", () -> "50 100\n"));
        assertEquals(100, Tty.columns(null, () -> "50 100\n"));
        assertEquals(100, Tty.columns("wide", () -> "50 100"));
        assertEquals(100, Tty.columns("5", () -> "50 100")); // too narrow to be meant
        assertEquals(80, Tty.columns(null, () -> null));
        assertEquals(80, Tty.columns(null, () -> "stty: 'standard input': Inappropriate ioctl for device"));
        assertEquals(80, Tty.columns("", () -> "0 0")); // what stty says of a terminal without a size
    }

    @Test
    void onlyATerminalGetsTheSessionVariables() {
        assertEquals("GODWIT_TTY = true; COLUMNS = 120; ", new Tty(true, 120).scriptPrefix());
        assertEquals("", Tty.NONE.scriptPrefix());
    }

    /** Under the test runner stdout is a pipe or a file, never a terminal. */
    @Test
    void theTestRunnersStdoutIsNoTerminal() {
        assertEquals(Tty.NONE, Tty.ofStdout());
    }
}
