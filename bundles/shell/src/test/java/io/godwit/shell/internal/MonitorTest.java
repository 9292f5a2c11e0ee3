package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.privatefiles.internal.PrivateFiles;
import io.godwit.shell.internal.MonitorClient.Answer;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;

/** The monitor over a real unix socket, running scripts in gogo.runtime's real processor. */
@Timeout(20)
class MonitorTest {

    /** Commands that show what the monitor does with output, errors, threads and concurrency. */
    public static final class Probe {
        final CountDownLatch released = new CountDownLatch(1);
        final CyclicBarrier meeting = new CyclicBarrier(2);

        public String hello() {
            return "hello";
        }

        /** Gogo runs a command on its own pipe thread; the monitor's session thread waits for it. */
        public String threads() {
            return Thread.getAllStackTraces().keySet().stream()
                    .map(Thread::getName)
                    .filter(n -> n.startsWith("monitor-"))
                    .sorted()
                    .collect(java.util.stream.Collectors.joining(" "));
        }

        public void fail() {
            throw new RuntimeException("wrapper", new IllegalStateException("the root cause\nsecond line"));
        }

        public String stream() throws InterruptedException {
            System.out.print("first ");
            return released.await(5, TimeUnit.SECONDS) ? "released" : "timed out";
        }

        public String meet() throws Exception {
            meeting.await(5, TimeUnit.SECONDS);
            return "met";
        }

        public String tty(CommandSession session) {
            return String.valueOf(Tty.of(session).terminal());
        }

        final CountDownLatch lost = new CountDownLatch(1);

        /** Writes until the output fails: how migrate notices that its client went away. */
        public String writeUntilLost() throws InterruptedException {
            PrintStream out = org.apache.felix.service.command.Process.Utils.current().out();
            for (int i = 0; i < 500; i++) {
                out.print("tick ");
                out.flush();
                if (out.checkError()) {
                    lost.countDown();
                    return "lost";
                }
                Thread.sleep(10);
            }
            return "never lost";
        }
    }

    private static ThreadIOImpl threadIo;
    private final Probe probe = new Probe();
    private final FakeVmManager vms = new FakeVmManager();
    private CommandProcessorImpl processor;
    private MonitorListener listener;

    @TempDir
    Path dir;

    @BeforeAll
    static void startThreadIo() {
        threadIo = new ThreadIOImpl();
        threadIo.start();
    }

    @AfterAll
    static void stopThreadIo() {
        threadIo.stop();
    }

    @BeforeEach
    void start() throws IOException {
        processor = new CommandProcessorImpl(threadIo);
        for (String f : List.of("hello", "threads", "fail", "stream", "meet", "tty", "writeUntilLost")) {
            processor.addCommand("test", probe, f);
        }
        processor.addCommand("godwit", new VmCommands(vms), "vm_create");
        processor.addCommand("godwit", new VmCommands(vms), "vm_list");
        processor.addCommand("godwit", new HostCommands(null), "sleep");
        processor.addListener(new GodwitScope());
        listener = new MonitorListener(dir.resolve("m.sock"), processor, Duration.ofSeconds(2));
    }

    @AfterEach
    void stop() throws InterruptedException {
        listener.close();
    }

    private Answer ask(String script) throws IOException {
        return MonitorClient.ask(listener.path(), script);
    }

    @Test
    void theResultIsPrintedAndTheExitIsZero() throws IOException {
        Answer a = ask("hello");
        assertEquals(new Answer("hello\n", "", 0, a.kinds()), a);
        assertEquals('X', a.kinds().getLast());
        Answer created = ask("vm_create a --memory 2G");
        assertEquals(new Answer("created VM a: 2 GiB, 1 vCPU, synthetic idle, tracker pml, running\n", "", 0,
                created.kinds()), created);
    }

    @Test
    void nullPrintsNothing() throws IOException {
        assertEquals(new Answer("", "", 0, List.of('X')), ask("sleep 0.01"));
        assertEquals(new Answer("", "", 0, List.of('X')), ask(""));
    }

    @Test
    void anErrorIsOneLineWithTheRootCauseAndExitOne() throws IOException {
        assertEquals(new Answer("", "Error: the root cause\n", 1, List.of('E', 'X')), ask("fail"));
        assertEquals(new Answer("", "Error: Command not found: nope\n", 1, List.of('E', 'X')), ask("nope"));
        assertEquals("Error: invalid size '12X': use a number with K, M, G or T (a bare number is MiB)\n",
                ask("vm_create a --memory 12X").err());
        // vm_create's own error, where Gogo's "Cannot coerce vm_create(Token, Token) to any of ..." was.
        assertEquals(new Answer("", "Error: vm_create --memory needs a SIZE, e.g. vm_create a --memory 2G\n", 1,
                List.of('E', 'X')), ask("vm_create a --memory"));
        // sleep takes its value itself: an extra one is its own error
        assertEquals(new Answer("", "Error: sleep takes one value, SECONDS, not 2: e.g. sleep 2\n", 1,
                List.of('E', 'X')), ask("sleep 1 2"));
        // Gogo still refuses a line with an argument vm_list has no place for: the shell's message instead.
        assertEquals(new Answer("", "Error: vm_list: the arguments do not fit its options (see help vm_list)\n", 1,
                List.of('E', 'X')), ask("vm_list a"));
    }

    /** As the launcher's -c mode: every statement's result, not only the last one's. */
    @Test
    void everyStatementsResultIsPrinted() throws IOException {
        Answer two = ask("hello ; hello");
        assertEquals(new Answer("hello\nhello\n", "", 0, two.kinds()), two);
        assertEquals("hello\nhello\n", ask("hello;; ;hello;").out());
        assertEquals("created VM a: 2 GiB, 1 vCPU, synthetic idle, tracker pml, running\nhello\n",
                ask("vm_create a --memory 2G; sleep 0.01; hello").out());
        // Gogo's parser cuts the script: a quoted ';' or a closure stays whole.
        assertEquals("hello\na; b\n", ask("hello; s = 'a; b'; $s").out());
    }

    @Test
    void theFirstFailingStatementEndsTheScript() throws IOException {
        Answer failed = ask("hello; fail; hello");
        assertEquals(new Answer("hello\n", "Error: the root cause\n", 1, failed.kinds()), failed);
        assertEquals('E', failed.kinds().get(failed.kinds().size() - 2)); // after the output
        assertEquals(new Answer("", "Error: Command not found: nope\n", 1, List.of('E', 'X')), ask("nope; hello"));
    }

    @Test
    void aScriptThatDoesNotParseFailsBeforeRunningAnything() throws IOException {
        Answer a = ask("hello; { hello");
        assertEquals("", a.out());
        assertEquals(1, a.exit());
        assertTrue(a.err().startsWith("Error: "), a.err());
    }

    /** Assignments print nothing, so that a client may set variables before its script. */
    @Test
    void assignmentsArePrintedNot() throws IOException {
        assertEquals("hello\n", ask("GODWIT_TTY = true; COLUMNS = 120; x = hello; $x").out());
        assertEquals("", ask("y = hello").out());
    }

    /** a && b, a || b stay one step: run apart, b would run after a failing a, or always. */
    @Test
    void chainsStayOneStep() throws IOException {
        assertEquals(new Answer("", "Error: the root cause\n", 1, List.of('E', 'X')), ask("fail && hello"));
        assertEquals("hello\n", ask("hello || fail").out());
    }

    @Test
    void outputStreamsBeforeTheCommandEnds() throws Exception {
        Answer a = MonitorClient.ask(listener.path(), "stream\n".getBytes(), out -> probe.released.countDown());
        assertEquals(new Answer("first released\n", "", 0, a.kinds()), a);
    }

    @Test
    void twoConnectionsRunAtOnce() throws Exception {
        CompletableFuture<Answer> first = CompletableFuture.supplyAsync(() -> askUnchecked("meet"));
        Answer second = ask("meet");
        assertEquals("met\n", second.out());
        assertEquals("met\n", first.get(10, TimeUnit.SECONDS).out());
    }

    private Answer askUnchecked(String script) {
        try {
            return ask(script);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void threadsAreNamed() throws IOException {
        String names = ask("threads").out();
        assertTrue(names.matches("monitor-accept monitor-session-\\d+\n"), names);
    }

    @Test
    void badRequestsAreRefused() throws IOException {
        byte[] notUtf8 = {(byte) 0xC3, (byte) 0x28, '\n'};
        assertEquals(new Answer("", "Error: script is not valid UTF-8\n", 1, List.of('E', 'X')),
                MonitorClient.ask(listener.path(), notUtf8, out -> {}));
        // A client that closes its side without a newline still gets its script run.
        assertEquals("hello\n", MonitorClient.ask(listener.path(), "hello".getBytes(), out -> {}).out());
    }

    @Test
    void closeLetsARunningCommandFinishThenDeletesTheSocket() throws Exception {
        CompletableFuture<Answer> running = CompletableFuture.supplyAsync(() -> askUnchecked("sleep 0.3; hello"));
        Thread.sleep(100);
        listener.close();
        assertEquals(new Answer("hello\n", "", 0, running.get(5, TimeUnit.SECONDS).kinds()),
                running.get(5, TimeUnit.SECONDS));
        assertFalse(Files.exists(listener.path()));
        assertThrows(IOException.class, () -> ask("hello"));
    }

    @Test
    void aStaleSocketFileIsReplaced() throws Exception {
        Path path = dir.resolve("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(path)); // closing leaves the file behind, as a crash does
        }
        assertTrue(Files.exists(path));
        try (MonitorListener second = new MonitorListener(path, processor, Duration.ZERO)) {
            assertEquals("hello\n", MonitorClient.ask(path, "hello\n".getBytes(), out -> {}).out());
        }
    }

    @Test
    void aLiveSocketOrAFileIsLeftAlone() throws IOException {
        IOException live = assertThrows(IOException.class,
                () -> new MonitorListener(listener.path(), processor, Duration.ZERO));
        assertTrue(live.getMessage().endsWith("another process is listening there"), live.getMessage());
        assertEquals("hello\n", ask("hello").out());
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        IOException notSocket = assertThrows(IOException.class, () -> new MonitorListener(file, processor, Duration.ZERO));
        assertTrue(notSocket.getMessage().endsWith("it exists and is not a socket"), notSocket.getMessage());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void theComponentReadsTheFrameworkProperty() throws Exception {
        Path path = dir.resolve("component.sock");
        MonitorServer server = new MonitorServer(processor, context("unix:" + path));
        assertEquals("hello\n", MonitorClient.ask(path, "hello\n".getBytes(), out -> {}).out());
        server.deactivate();
        assertFalse(Files.exists(path));
        new MonitorServer(processor, context(null)).deactivate(); // no property: no monitor, no error
        assertEquals("godwit.monitor must be unix:PATH, e.g. unix:/tmp/godwit-a.sock; got 'tcp:localhost:4444'",
                assertThrows(IllegalArgumentException.class, () -> new MonitorServer(processor, context(
                        "tcp:localhost:4444"))).getMessage());
    }

    private static BundleContext context(String monitor) {
        return (BundleContext) Proxy.newProxyInstance(MonitorTest.class.getClassLoader(),
                new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> method.getName().equals("getProperty")
                                && MonitorServer.PROPERTY.equals(args[0]) ? monitor : null);
    }

    /** The host cannot see the client's terminal: no progress bar unless the client asks for one. */
    @Test
    void aMonitorSessionIsNoTerminalUnlessTheClientSaysSo() throws IOException {
        assertEquals("false\n", ask("tty").out());
        assertEquals("true\n", ask("GODWIT_TTY = true; tty").out());
    }

    /** A client that goes away makes the command's stdout fail, so a waiting migrate can tell. */
    @Test
    void aLostClientShowsAsAnOutputError() throws Exception {
        try (java.nio.channels.SocketChannel channel = java.nio.channels.SocketChannel.open(
                UnixDomainSocketAddress.of(listener.path()))) {
            channel.write(java.nio.ByteBuffer.wrap("writeUntilLost\n".getBytes()));
            channel.read(java.nio.ByteBuffer.allocate(5)); // the first frame has begun
        }
        assertTrue(probe.lost.await(5, TimeUnit.SECONDS));
    }

    /** The monitor is a full shell: its socket is owner-only whatever the umask, bound with nothing left beside it. */
    @Test
    void theSocketIsOwnerOnly() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(listener.path())));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(listener.path()), files.toList(), "what the bind left in the socket's folder");
        }
    }

    /**
     * A client of another user is refused by its credentials (SO_PEERCRED), even where the operator
     * opened the socket's mode: a real client process as user nobody gets a one-line error and status 1.
     */
    @Test
    @Timeout(60)
    void aClientOfAnotherUserIsRefused() throws Exception {
        Assumptions.assumeTrue(PrivateFiles.ownUid().orElse(-1) == 0, "needs root to run a client as user nobody");
        Path runuser = Path.of("/usr/sbin/runuser");
        Assumptions.assumeTrue(Files.isExecutable(runuser), "needs runuser to run a client as user nobody");
        // In /tmp, with a copy of the client's classes: user nobody may not be able to enter the build tree.
        Path open = Files.createTempDirectory(Path.of("/tmp"), "godwit-peer-");
        try {
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path classes = copyClientClasses(open.resolve("classes"));
            Path socket = open.resolve("m.sock");
            try (MonitorListener host = new MonitorListener(socket, processor, Duration.ZERO)) {
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-")); // opened by hand
                Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
                Process client = new ProcessBuilder(runuser.toString(), "-u", "nobody", "--", javaBin.toString(), "-cp",
                        classes.toString(), MonitorClient.class.getName(), socket.toString(), "vm_create intruder")
                        .redirectErrorStream(true).start();
                String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, client.waitFor(), out);
                assertEquals("Error: this monitor takes commands from its host's user root only, not from nobody\n"
                        + "exit 1\n", out);
                assertTrue(vms.get("intruder").isEmpty(), "the refused client's command ran");
                assertEquals("hello\n", MonitorClient.ask(socket, "hello").out());
            }
        } finally {
            try (Stream<Path> files = Files.walk(open)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** MonitorClient's class files under {@code root}, readable by everyone. */
    private static Path copyClientClasses(Path root) throws Exception {
        Path from = Path.of(MonitorClient.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(MonitorClient.class.getPackageName().replace('.', '/'));
        Path to = Files.createDirectories(root.resolve(MonitorClient.class.getPackageName().replace('.', '/')));
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("MonitorClient")).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x"
                        : "rw-r--r--"));
            }
        }
        return root;
    }

    /** Refused before its request is read: nothing of it runs. */
    @Test
    void aClientTheMonitorDoesNotAdmitRunsNothing() throws Exception {
        var users = dir.getFileSystem().getUserPrincipalLookupService();
        Path path = dir.resolve("other.sock");
        try (MonitorListener other = new MonitorListener(path, processor, Duration.ZERO,
                new MonitorPeers(users.lookupPrincipalByName("nobody"), null))) {
            Answer a = MonitorClient.ask(path, "vm_create intruder");
            assertEquals(1, a.exit());
            assertTrue(a.err().startsWith("Error: this monitor takes commands from its host's user nobody only, not from "),
                    a.err());
            assertEquals(1, a.err().lines().count(), a.err());
        }
        assertTrue(vms.get("intruder").isEmpty(), "the refused client's command ran");
    }

    @Test
    void rootMessageFallsBackToTheClassName() {
        assertEquals("NullPointerException", MonitorSession.rootMessage(new RuntimeException(new NullPointerException())));
    }
}
