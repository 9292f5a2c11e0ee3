package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The commands through Gogo's real parser and method matching (gogo.runtime, no OSGi): option
 * parsing, the errors a user sees, and which {@code stop} and {@code sleep} a bare name means.
 */
class GogoShellTest {

    /** Stand-ins with the names and signatures of felix:stop (gogo.command) and gogo:sleep (gogo.jline). */
    public static final class Others {
        public String stop(String... bundles) {
            return "felix stop";
        }

        public String sleep(int seconds) {
            return "gogo sleep";
        }

        /** felix:help's two forms: the list, and the usage of the first command by that name it finds. */
        public String help() {
            return "felix help";
        }

        public String help(String name) {
            return "felix help " + name;
        }
    }

    private static ThreadIOImpl threadIo;
    private final FakeVmManager vms = new FakeVmManager();
    private CommandProcessorImpl processor;
    private CommandSession session;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @BeforeAll
    static void startThreadIo() {
        threadIo = new ThreadIOImpl(); // routes System.out of command threads to the session
        threadIo.start();
    }

    @AfterAll
    static void stopThreadIo() {
        threadIo.stop();
    }

    @BeforeEach
    void registerCommands() {
        processor = new CommandProcessorImpl(threadIo);
        // What gogo.runtime's whiteboard does for each osgi.command.function of a service.
        VmCommands vmCommands = new VmCommands(vms);
        for (String f : List.of("vm_create", "vm_list", "vm_destroy", "stop", "cont", "vm_check")) {
            processor.addCommand("godwit", vmCommands, f);
        }
        InfoCommand info = new InfoCommand();
        info.addSubject(new StatusInfo(vms));
        info.addSubject(new VmsInfo(vms));
        info.addSubject(new CpusInfo(vms));
        processor.addCommand("godwit", info, "info");
        processor.addCommand("godwit", new HostCommands(null), "sleep");
        processor.addCommand("godwit", new HostCommands(null), "help");
        processor.addCommand("felix", new Others(), "stop");
        processor.addCommand("felix", new Others(), "help");
        processor.addCommand("gogo", new Others(), "sleep");
        processor.addListener(new GodwitScope());
        session = processor.createSession(InputStream.nullInputStream(), new PrintStream(out, true), System.err);
    }

    @AfterEach
    void close() {
        session.close();
    }

    private Object run(String script) throws Exception {
        return session.execute(script);
    }

    private String error(String script) {
        return assertThrows(Exception.class, () -> run(script)).getMessage();
    }

    @Test
    void createParsesOptionsInAnyOrder() throws Exception {
        assertEquals("created VM a: 2 GiB, 2 vCPUs, synthetic sweep:0-64M, tracker pml, running",
                run("vm_create a --memory 2G --vcpus 2 --workload sweep:0-64M"));
        assertEquals("created VM b: 256 MiB, 1 vCPU, synthetic fill, tracker pml, prelaunch",
                run("vm_create --paused -m 256 -w fill --dirty-tracker pml b"));
        assertEquals("created VM c: 1.5 GiB, 1 vCPU, synthetic idle, tracker pml, prelaunch",
                run("godwit:vm_create c -S --memory 1.5G"));
    }

    @Test
    void badInputIsOneClearLine() {
        assertEquals("invalid size '12X': use a number with K, M, G or T (a bare number is MiB)",
                error("vm_create a --memory 12X"));
        assertEquals("unknown option '--bogus' for vm_create (see help vm_create)", error("vm_create a --bogus 1"));
        assertEquals("unknown CPU backend 'riscv': installed are synthetic", error("vm_create a --cpu riscv"));
        assertEquals("vm_create needs a NAME for the VM", error("vm_create --memory 1G"));
        assertEquals("unknown info subject 'nope': known are cpus, status, vms", error("info nope"));
        assertEquals("Command not found: vm_creat", error("vm_creat a"));
    }

    /**
     * An option without its value: Gogo refused the line before vm_create ran ("Cannot coerce
     * vm_create(Token, Token) to any of [...]"), which the console prints as it is; vm_create takes its
     * options itself, so the line's error is ours wherever it runs.
     */
    @Test
    void aMissingOptionValueIsOurOneLineError() throws Exception {
        assertEquals("vm_create --memory needs a SIZE, e.g. vm_create a --memory 2G", error("vm_create t --memory"));
        assertEquals("vm_create --vcpus needs a number of vCPUs, e.g. vm_create a --vcpus 2", error("vm_create t --vcpus"));
        assertEquals("vm_create --workload needs a workload, e.g. vm_create a --workload sweep:64M",
                error("vm_create a --paused --workload"));
        assertEquals("vm_create --memory needs a SIZE, e.g. vm_create a --memory 2G", error("vm_create a --memory -S"));
        assertEquals("invalid vCPU count 'x': use a whole number from 1 to 64", error("vm_create a --vcpus x"));
        assertEquals("vm_create --cpu given twice: synthetic, riscv (see help vm_create)",
                error("vm_create a --cpu synthetic --cpu riscv"));
        assertTrue(vms.list().isEmpty(), "no VM made by a refused line");
        assertNull(session.get(CommandErrors.VARIABLE), "the command's own error: nothing for the monitor to replace");
        assertEquals("created VM a: 128 MiB, 1 vCPU, synthetic idle, tracker pml, running", run("vm_create a"));
    }

    /** Commands with one plain argument take it themselves too: a missing or extra one is our line. */
    @Test
    void aMissingArgumentIsOurOneLineError() throws Exception {
        assertEquals("sleep needs SECONDS, e.g. sleep 2", error("sleep"));
        assertEquals("sleep takes one value, SECONDS, not 2: e.g. sleep 2", error("sleep 1 2"));
        assertNull(session.get(CommandErrors.VARIABLE), "the command's own error: nothing for the monitor to replace");
    }

    /** Where Gogo still refuses a line (arguments a command has no place for), the scope listener leaves ours. */
    @Test
    void aLineGogoRefusesGetsOurMessageForTheMonitor() throws Exception {
        String message = error("vm_list a");
        assertTrue(message.startsWith("Cannot coerce vm_list(Token)"), message);
        assertEquals("vm_list: the arguments do not fit its options (see help vm_list)",
                session.get(CommandErrors.VARIABLE));
        run("vm_list");
        assertNull(session.get(CommandErrors.VARIABLE), "a line that ran leaves no message");
    }

    @Test
    void vmLifecycleThroughTheShell() throws Exception {
        run("vm_create a");
        assertEquals("VM status: running", run("info status"));
        assertNull(run("stop"));
        assertEquals("VM status: paused", run("info status a"));
        vms.vm("a").verdict = new OracleVerdict(8, 1, List.of("0x0: expected 1, found 0"), "8 pages, 2 edges");
        assertEquals("VM a failed its check: 1 bad pages of 8", error("vm_check"));
        // The report went to the session's stdout through Gogo's ThreadIO, before the error.
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("bad pages:     1"), out.toString());
        assertNull(run("cont a"));
        assertEquals("VM a is running: stop it first (stop a)", error("vm_check a"));
        assertEquals("destroyed VM a", run("vm_destroy a"));
        assertEquals("no VMs", run("vm_list"));
    }

    /** Without {@link GodwitScope}, SCOPE '*' picks felix:stop or godwit:stop by hash order. */
    @Test
    void bareStopAndSleepMeanOursEvenWithTheConsolesScope() throws Exception {
        run("vm_create a");
        run("SCOPE = 'gogo:*'"); // what gogo.jline's gosh_profile sets
        assertNull(run("stop"));
        assertEquals("VM status: paused", run("info status"));
        long start = System.nanoTime();
        assertNull(run("sleep 0.05"));
        assertTrue(System.nanoTime() - start >= 50_000_000L);
        assertEquals("felix stop", run("felix:stop 5"));
        assertEquals("gogo sleep", run("gogo:sleep 1"));
        assertEquals("godwit:gogo:*", session.get("SCOPE"));
    }

    /** help stop showed felix:stop (gogo.command's help takes the first stop it finds): it must show ours. */
    @Test
    void helpOfABareNameShowsTheCommandThatRuns() throws Exception {
        assertEquals("felix help godwit:stop", run("help stop"));
        assertEquals("felix help godwit:vm_create", run("help vm_create"));
        assertEquals("felix help felix:stop", run("help felix:stop"));
        assertEquals("felix help nosuch", run("help nosuch"));
        assertEquals("felix help", run("help"));
        assertEquals("help takes one command name, e.g. help stop", error("help 'stop; quit'"));
    }

    @Test
    void scopeIsPrefixedOnce() {
        assertEquals("godwit:*", GodwitScope.withGodwitFirst(null));
        assertEquals("godwit:gogo:*", GodwitScope.withGodwitFirst("gogo:*"));
        assertEquals("godwit:gogo:*", GodwitScope.withGodwitFirst("godwit:gogo:*"));
        assertEquals("godwit", GodwitScope.withGodwitFirst("godwit"));
    }
}
