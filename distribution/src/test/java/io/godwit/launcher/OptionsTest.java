package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.godwit.launcher.Options.Mode;
import io.godwit.launcher.Options.UsageException;

class OptionsTest {

    @Test
    void noArgumentsIsTheConsole() throws Exception {
        Options options = Options.parse();
        assertEquals(Mode.CONSOLE, options.mode());
        assertNull(options.script());
        assertNull(options.monitor());
    }

    @Test
    void commandIsAScript() throws Exception {
        Options options = Options.parse("-c", "vm_create a; info status");
        assertEquals(Mode.SCRIPT, options.mode());
        assertEquals("vm_create a; info status", options.script());
        assertEquals(Mode.SCRIPT, Options.parse("--command", "lb").mode());
    }

    @Test
    void scriptWaitOptions() throws Exception {
        assertTrue(Options.parse("-c", "lb", "--no-wait").noWait());
        Options options = Options.parse("--wait", "(godwit.transport.scheme=rdma)", "-c", "lb");
        assertEquals("(godwit.transport.scheme=rdma)", options.waitFilter());
        assertFalse(options.noWait());
    }

    @Test
    void daemonWithMonitorAndReadyFile() throws Exception {
        Options options = Options.parse("--daemon", "--monitor", "unix:/tmp/a.sock", "--ready-file", "r", "--log", "l.log");
        assertEquals(Mode.DAEMON, options.mode());
        assertEquals("unix:/tmp/a.sock", options.monitor().uri());
        assertEquals(Path.of("/tmp/a.sock"), options.monitor().path());
        assertEquals(Path.of("r"), options.readyFile());
        assertEquals(Path.of("l.log"), options.logFile());
    }

    @Test
    void relativeMonitorPathsBecomeAbsolute() throws Exception {
        Options options = Options.parse("--daemon", "--monitor", "unix:a.sock");
        assertTrue(options.monitor().path().isAbsolute());
        assertEquals("unix:" + Path.of("a.sock").toAbsolutePath(), options.monitor().uri());
    }

    @Test
    void connectIsAClient() throws Exception {
        Options options = Options.parse("--connect", "unix:/tmp/a.sock", "-c", "info status");
        assertEquals(Mode.CONNECT, options.mode());
        assertEquals(Path.of("/tmp/a.sock"), options.connect().path());
        assertEquals("info status", options.script());
    }

    @Test
    void helpWinsOverEverything() throws Exception {
        assertEquals(Mode.HELP, Options.parse("--help").mode());
        assertEquals(Mode.HELP, Options.parse("-c", "lb", "-h").mode());
    }

    @Test
    void consoleMayServeAMonitor() throws Exception {
        Options options = Options.parse("--monitor", "unix:/tmp/c.sock");
        assertEquals(Mode.CONSOLE, options.mode());
        assertEquals("unix:/tmp/c.sock", options.monitor().uri());
    }

    @Test
    void socketPathsLongerThanTheKernelAllowsAreRefused() {
        String longPath = "/tmp/" + "d".repeat(110) + "/a.sock";
        UsageException e = assertThrows(UsageException.class, () -> Options.parse("--connect", "unix:" + longPath, "-c", "lb"));
        assertTrue(e.getMessage().startsWith("--connect: the socket path " + longPath + " is 122 bytes long"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--frobnicate                                   | unknown option --frobnicate",
        "lb                                             | unexpected argument 'lb'",
        "-c                                             | -c needs a value",
        "-c lb -c lb                                    | -c given twice",
        "--daemon                                       | --daemon needs --monitor",
        "--daemon --monitor unix:/a -c lb               | -c cannot be used with --daemon",
        "--daemon --monitor tcp:1234                    | --monitor wants unix:PATH",
        "--daemon --monitor unix:                       | --monitor wants unix:PATH",
        "--connect unix:/a                              | --connect needs a script",
        "--connect unix:/a -c lb --monitor unix:/b      | --monitor cannot be used with --connect",
        "--connect unix:/a -c lb --no-wait              | --no-wait cannot be used with --connect",
        "-c lb --ready-file r                           | --ready-file cannot be used with -c",
        "-c lb --monitor unix:/a                        | --monitor cannot be used with -c",
        "-c lb --wait (a=b) --no-wait                   | --wait cannot be used with --no-wait",
        "-c lb --wait (((                               | --wait wants an LDAP filter",
        "--ready-file r                                 | --ready-file cannot be used with the console",
        "--no-wait                                      | --no-wait cannot be used with the console",
    })
    void refusesWithAOneLineReason(String args, String message) {
        UsageException e = assertThrows(UsageException.class, () -> Options.parse(args.trim().split("\\s+")));
        assertTrue(e.getMessage().startsWith(message.trim()), () -> "got: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
