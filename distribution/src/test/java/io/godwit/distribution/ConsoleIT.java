package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The interactive console as a user gets it from {@code bin/godwit}: gogo.jline's shell on a real
 * terminal, a pty that util-linux's {@code script} opens, with lines typed one after another. The
 * console prints a failed line itself ({@code e.toString()}, in gogo.jline's {@code Shell}), with no
 * hook for Godwit, so what it shows is the command's own exception or Gogo's.
 */
@Timeout(180)
class ConsoleIT {

    /** The console's banner (etc/motd): the shell reads lines from here on. */
    private static final String READY = "Ctrl-D or `quit` stops the host.";
    /** What vm_list prints on a host without VMs: a line typed after another, whose answer ends that one's. */
    private static final String NO_VMS = "no VMs";
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final Duration ANSWER = Duration.ofSeconds(30);

    private Process console;
    private OutputStream keyboard;
    private final StringBuffer screen = new StringBuffer();

    @BeforeEach
    void start() throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")),
                "needs util-linux's script to give the console a terminal");
        Path home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        assertTrue(Files.isExecutable(home.resolve("bin/godwit")), "no host home at " + home);
        ProcessBuilder builder = new ProcessBuilder("script", "--quiet", "--return", "--command",
                "exec \"$GODWIT_BIN\"", "/dev/null");
        builder.environment().put("GODWIT_BIN", home.resolve("bin/godwit").toString());
        builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        builder.environment().remove("JAVA_OPTS");
        builder.environment().put("TERM", "xterm");
        console = builder.redirectErrorStream(true).start();
        keyboard = console.getOutputStream();
        Thread reader = new Thread(() -> read(console.getInputStream()), "console-it-screen");
        reader.setDaemon(true);
        reader.start();
    }

    private void read(InputStream in) {
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                screen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
        } catch (IOException closed) {
            // the console went away; the test's own wait says what was missing
        }
    }

    /** Stops what is left by pid: the host under script, then script. */
    @AfterEach
    void stop() throws InterruptedException {
        if (console == null) {
            return;
        }
        if (console.isAlive()) {
            console.descendants().forEach(ProcessHandle::destroyForcibly);
            console.destroyForcibly();
        }
        assertTrue(console.waitFor(15, TimeUnit.SECONDS), "script (pid " + console.pid() + ") still runs");
    }

    /**
     * A value option typed without its value was refused by Gogo before vm_create ran, and the console
     * printed {@code java.lang.IllegalArgumentException: Cannot coerce vm_create(Token, Token) to any of
     * [(String, String, String, String, String, boolean, String, boolean, String, String, String[])]}.
     */
    @Test
    void aMissingOptionValueIsGodwitsOneLineError() throws Exception {
        await(READY, 1, BOOT);
        String memory = answer("vm_create t --memory", 1);
        assertTrue(memory.contains("vm_create --memory needs a SIZE, e.g. vm_create a --memory 2G"), memory);
        assertFalse(memory.contains("Cannot coerce"), memory);
        String vcpus = answer("vm_create t --vcpus", 2);
        assertTrue(vcpus.contains("vm_create --vcpus needs a number of vCPUs, e.g. vm_create a --vcpus 2"), vcpus);
        assertFalse(vcpus.contains("Cannot coerce"), vcpus);
        String unknown = answer("vm_create t --memroy 1G", 3);
        assertTrue(unknown.contains("unknown option '--memroy' for vm_create (see help vm_create)"), unknown);
        // Each answer ended with vm_list's: no VM was made by a refused line.
        String help = answer("help vm_create", 4);
        for (String option : List.of("--memory, -m SIZE   RAM size", "--vcpus, --smp N   number of vCPUs",
                "--cpu BACKEND   CPU backend", "--workload, -w, --guest SPEC   workload", "--dirty-tracker NAME",
                "--mem-path FILE", "--incoming defer|URI", "--qmp ADDRESS", "--device TYPE[,key=value]...",
                "--device-map ID=VALUE", "--paused, -S   create with the vCPUs parked", "--mem-prealloc   fault")) {
            assertTrue(help.contains(option), "help vm_create does not show " + option + ":\n" + help);
        }
        type("quit");
        assertTrue(console.waitFor(ANSWER.toSeconds(), TimeUnit.SECONDS), "the console did not end on quit:\n" + text());
        assertEquals(0, console.exitValue(), text());
    }

    /**
     * What the console printed for {@code line}: types it and then {@code vm_list}, and waits for the
     * {@code n}-th {@value #NO_VMS} (lines run one after another, so the line's answer came before).
     */
    private String answer(String line, int n) throws Exception {
        int from = text().length();
        type(line);
        type("vm_list");
        await(NO_VMS, n, ANSWER);
        return text().substring(from);
    }

    private void type(String line) throws IOException {
        keyboard.write((line + "\r").getBytes(StandardCharsets.UTF_8));
        keyboard.flush();
    }

    /** Waits until {@code text} is on the screen {@code times} times. */
    private void await(String text, int times, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count(text(), text) < times) {
            if (System.nanoTime() > deadline || !console.isAlive() && count(text(), text) < times) {
                fail("'" + text + "' not shown " + times + " times within " + timeout.toSeconds() + " s; the screen:\n"
                        + text());
            }
            Thread.sleep(20); // polls the condition
        }
    }

    private static int count(String in, String text) {
        int n = 0;
        for (int at = in.indexOf(text); at >= 0; at = in.indexOf(text, at + text.length())) {
            n++;
        }
        return n;
    }

    /** The screen without the terminal's escape sequences (colours, modes). */
    private String text() {
        return screen.toString().replaceAll("\u001B\\[[0-9;?]*[A-Za-z]|\u001B[=>]", "").replace("\r", "");
    }
}
