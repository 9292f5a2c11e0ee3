package io.godwit.qmp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The protocol of QMP (docs/interop/qmp-spec.rst) against a real VM of the real kernel: greeting,
 * negotiation, QEMU's errors and wording, malformed and huge lines, several clients, clients that go
 * away mid-command, run state events, quit.
 */
class QmpProtocolTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final QmpService qmp;
    private final Path dir;
    private final Path socket;
    private final Vm vm;

    QmpProtocolTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        qmp = new QmpService(vms, new QmpVersion(0, 1, 0, "Godwit test"));
        dir = Files.createTempDirectory("godwit-qmp");
        socket = dir.resolve("a.qmp");
        vm = vms.create(VmSpec.builder("a").memory(16 << 20).workload("sweep:4M,rate=2000").build());
        assertEquals("unix:" + socket, qmp.add("a", "unix:" + socket));
    }

    @AfterEach
    void close() throws Exception {
        qmp.deactivate();
        vms.deactivate();
    }

    @Test
    void greetingAsTheSpecificationShowsIt() throws IOException {
        try (QmpClient c = new QmpClient(socket)) {
            JsonNode qmpMember = c.greeting.get("QMP");
            assertEquals(0, qmpMember.get("version").get("qemu").get("major").asInt());
            assertEquals(1, qmpMember.get("version").get("qemu").get("minor").asInt());
            assertTrue(qmpMember.get("version").get("qemu").has("micro"));
            assertEquals("Godwit test", qmpMember.get("version").get("package").asText());
            assertTrue(qmpMember.get("capabilities").isArray());
            assertEquals(0, qmpMember.get("capabilities").size());
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    @Test
    void onlyQmpCapabilitiesBeforeTheNegotiationAndNotAfter() throws IOException {
        try (QmpClient c = new QmpClient(socket)) {
            JsonNode refused = c.execute("stop");
            assertError(refused, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
            assertEquals(RunState.RUNNING, vm.state(), "the refused stop did nothing");
            assertError(c.execute("no-such-command"), "CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
            assertEquals("{}", c.ok("qmp_capabilities", null).toString());
            assertError(c.execute("qmp_capabilities"), "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored");
            assertError(c.execute("qmp_capabilities", "{\"enable\": [\"oob\"]}"), "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored");
        }
        try (QmpClient c = new QmpClient(socket)) {
            assertError(c.execute("qmp_capabilities", "{\"enable\": [\"oob\"]}"), "GenericError",
                    "Capability 'oob' not available");
            assertError(c.execute("query-status"), "CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
    }

    @Test
    void errorsHaveQemusClassesAndWordingAndEchoTheId() throws IOException {
        try (QmpClient c = QmpClient.ready(socket)) {
            c.sendRaw("{\"execute\": \"no-such-command\", \"id\": {\"n\": [1, \"x\"]}}\n");
            JsonNode r = c.reply();
            assertError(r, "CommandNotFound", "The command no-such-command has not been found");
            assertEquals("{\"n\":[1,\"x\"]}", r.get("id").toString());

            assertError(c.execute("migrate"), "GenericError", "Parameter 'uri' is missing");
            assertError(c.execute("migrate", "{\"uri\": \"unix:/nowhere\", \"detach\": \"yes\"}"), "GenericError",
                    "Invalid parameter type for 'detach', expected: boolean");
            assertError(c.execute("migrate", "{\"uri\": 5}"), "GenericError",
                    "Invalid parameter type for 'uri', expected: string");
            assertError(c.execute("query-status", "{\"verbose\": true}"), "GenericError",
                    "Parameter 'verbose' is unexpected");
            assertError(c.execute("migrate-set-capabilities",
                            "{\"capabilities\": [{\"capability\": \"events\", \"state\": 1}]}"),
                    "GenericError", "Invalid parameter type for 'capabilities[0].state', expected: boolean");
            assertError(c.execute("migrate-set-capabilities",
                            "{\"capabilities\": [{\"capability\": \"compress\", \"state\": true}]}"),
                    "GenericError", "Parameter 'capabilities[0].capability' does not accept value 'compress'");
            assertError(c.execute("human-monitor-command", "{\"command-line\": \"info vms\"}"), "GenericError",
                    "the shell is not running (is the Gogo runtime bundle started?)");

            c.sendRaw("[1, 2]\n");
            assertError(c.reply(), "GenericError", "QMP input must be a JSON object");
            c.sendRaw("{\"id\": 7}\n");
            r = c.reply();
            assertError(r, "GenericError", "QMP input lacks member 'execute'");
            assertEquals(7, r.get("id").asInt());
            c.sendRaw("{\"execute\": 1}\n");
            assertError(c.reply(), "GenericError", "QMP input member 'execute' must be a string");
            c.sendRaw("{\"execute\": \"stop\", \"arguments\": []}\n");
            assertError(c.reply(), "GenericError", "QMP input member 'arguments' must be an object");
            c.sendRaw("{\"execute\": \"stop\", \"argument\": {}}\n");
            assertError(c.reply(), "GenericError", "QMP input member 'argument' is unexpected");
            assertEquals(RunState.RUNNING, vm.state(), "no refused command acted");
        }
    }

    @Test
    void malformedLinesAreAnsweredAndTheSessionGoesOn() throws IOException {
        try (QmpClient c = QmpClient.ready(socket)) {
            for (String garbage : List.of("garbage", "{\"execute\": ", "{} {}", "{\"execute\":\"stop\",\"execute\":\"cont\"}",
                    "\u0000\u0001")) {
                c.sendRaw(garbage + "\n");
                JsonNode r = c.reply();
                assertEquals("GenericError", r.get("error").get("class").asText(), garbage);
                assertTrue(r.get("error").get("desc").asText().startsWith("JSON parse error, "), r.toString());
            }
            c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xfe, '\n'});
            assertTrue(c.reply().get("error").get("desc").asText().startsWith("JSON parse error, "));
            c.sendRaw("\n  \r\n"); // blank lines are no requests: no reply
            assertEquals("running", c.ok("query-status", null).get("status").asText());
            assertEquals(RunState.RUNNING, vm.state());
        }
    }

    @Test
    void aLineOverTheLimitIsRefusedOnceAndSkipped() throws IOException {
        try (QmpClient c = QmpClient.ready(socket)) {
            byte[] huge = new byte[QmpSession.MAX_LINE * 3];
            java.util.Arrays.fill(huge, (byte) '{');
            c.sendRaw(huge);
            JsonNode r = c.reply();
            assertError(r, "GenericError", "QMP input line longer than " + QmpSession.MAX_LINE
                    + " bytes: skipped to its end");
            c.sendRaw("\n{\"execute\": \"query-name\", \"id\": 1}\n");
            r = c.reply();
            assertEquals("a", r.get("return").get("name").asText(), r.toString());
            assertEquals(1, r.get("id").asInt());
            assertEquals(RunState.RUNNING, vm.state());
        }
    }

    @Test
    void severalClientsAtOnceEachHearTheEvents() throws Exception {
        List<QmpClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                clients.add(QmpClient.ready(socket));
            }
            List<String> threads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(n -> n.startsWith("qmp-a-")).toList();
            assertTrue(threads.contains("qmp-a-accept"), threads.toString());
            assertTrue(threads.stream().filter(n -> n.matches("qmp-a-\\d+")).count() >= 4, threads.toString());
            assertEquals("{}", clients.get(2).ok("stop", null).toString());
            assertEquals(RunState.PAUSED, vm.state());
            for (QmpClient c : clients) {
                JsonNode stop = c.event("STOP");
                assertTrue(stop.get("timestamp").get("seconds").asLong() > 1_700_000_000L, stop.toString());
                long micros = stop.get("timestamp").get("microseconds").asLong();
                assertTrue(micros >= 0 && micros < 1_000_000, stop.toString());
                assertFalse(stop.has("data"), "STOP has no data in QEMU");
            }
            JsonNode status = clients.get(0).ok("query-status", null);
            assertEquals("{\"status\":\"paused\",\"singlestep\":false,\"running\":false}", status.toString());
            clients.get(1).ok("cont", null);
            for (QmpClient c : clients) {
                assertEquals("RESUME", c.event("RESUME").get("event").asText());
            }
            vm.stop(RunState.PAUSED); // by someone else (the shell): heard too
            for (QmpClient c : clients) {
                assertEquals("STOP", c.event("STOP").get("event").asText());
            }
        } finally {
            for (QmpClient c : clients) {
                c.close();
            }
        }
    }

    /**
     * STOP and RESUME come from the kernel's run state changes, not from looking at the state now and
     * then: ten stop/cont pairs back to back (each leaves the guest paused for well under a poll of
     * 20 ms, the parking of its vCPUs included) make ten STOPs and ten RESUMEs, in order, with their
     * times in order, before the reply of the QMP stop after them.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void stopAndContBackToBackEachMakeStopAndResumeInOrder() throws Exception {
        try (QmpClient c = QmpClient.ready(socket)) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                vm.stop(RunState.PAUSED); // as the shell's stop and cont do: not through QMP
                vm.cont();
                expected.addAll(List.of("STOP", "RESUME"));
            }
            expected.add("STOP");
            c.ok("stop", null); // its reply follows every event queued before it
            assertEquals(expected, c.events.stream().map(e -> e.get("event").asText()).toList());
            long last = 0;
            for (JsonNode e : c.events) {
                long micros = e.get("timestamp").get("seconds").asLong() * 1_000_000
                        + e.get("timestamp").get("microseconds").asLong();
                assertTrue(micros >= last, "events out of time order: " + c.events);
                last = micros;
            }
        }
    }

    @Test
    void noEventsBeforeTheNegotiation() throws Exception {
        try (QmpClient waiting = new QmpClient(socket); QmpClient other = QmpClient.ready(socket)) {
            other.ok("stop", null);
            other.event("STOP");
            waiting.ok("qmp_capabilities", null);
            waiting.ok("cont", null);
            JsonNode first = waiting.event("RESUME");
            assertEquals("RESUME", first.get("event").asText());
            assertTrue(waiting.events.isEmpty(), "the STOP before the negotiation was not sent: " + waiting.events);
        }
    }

    @Test
    void clientsThatGoAwayMidCommandHurtNeitherTheVmNorTheServer() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                raw.connect(UnixDomainSocketAddress.of(socket));
                String half = i % 2 == 0
                        ? "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-mig"
                        : "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-cpus-fast\"}\n";
                raw.write(java.nio.ByteBuffer.wrap(half.getBytes(StandardCharsets.UTF_8)));
            } // closed without reading a byte
        }
        try (QmpClient c = QmpClient.ready(socket)) {
            JsonNode cpus = c.ok("query-cpus-fast", null);
            assertEquals(1, cpus.size());
            assertEquals(0, cpus.get(0).get("cpu-index").asInt());
            assertEquals("synthetic", cpus.get(0).get("target").asText());
            assertEquals(RunState.RUNNING, vm.state());
        }
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().clean(), "the guest's memory is intact");
    }

    @Test
    @org.junit.jupiter.api.Timeout(30) // a client that holds up the events thread would hang the other one
    void aClientThatNeverReadsIsCutOffAndHoldsUpNobody() throws Exception {
        try (QmpClient deaf = QmpClient.ready(socket); QmpClient other = QmpClient.ready(socket)) {
            int events = 50_000; // far more than the socket buffers and the queue of 4096 hold
            int batch = 1000; // fewer than the queue holds: the client that reads keeps up
            for (int pass = 1; pass <= events; pass++) {
                qmp.passStarted("a", pass, System.currentTimeMillis()); // as the coordinator calls it
                if (pass % batch == 0) {
                    JsonNode last = other.event("MIGRATION_PASS");
                    while (last.get("data").get("pass").asInt() < pass) {
                        last = other.event("MIGRATION_PASS"); // every event reaches the client that reads
                    }
                    other.events.clear();
                }
            }
            assertTrue(deaf.closedByServer(), "the client that did not read was cut off");
            assertTrue(deaf.events.size() < events, "it got what was queued before: " + deaf.events.size());
            assertEquals("a", other.ok("query-name", null).get("name").asText());
            assertEquals(RunState.RUNNING, vm.state());
        }
    }

    @Test
    void quitEndsTheVmAfterItsReplyWithShutdown() throws Exception {
        try (QmpClient c = QmpClient.ready(socket); QmpClient other = QmpClient.ready(socket)) {
            assertEquals("{}", c.ok("quit", null).toString());
            JsonNode shutdown = other.event("SHUTDOWN");
            assertEquals("{\"guest\":false,\"reason\":\"host-qmp-quit\"}", shutdown.get("data").toString());
            assertTrue(c.closedByServer());
            assertTrue(other.closedByServer());
        }
        assertTrue(vms.get("a").isEmpty(), "quit ended the VM");
        assertFalse(Files.exists(socket), "the socket file went with the VM");
        assertTrue(qmp.addresses("a").isEmpty());
    }

    @Test
    void theShellsVmDestroyIsAShutdownByTheHostsUi() throws Exception {
        try (QmpClient c = QmpClient.ready(socket)) {
            vms.destroy("a");
            JsonNode shutdown = c.event("SHUTDOWN");
            assertEquals("{\"guest\":false,\"reason\":\"host-ui\"}", shutdown.get("data").toString());
            assertTrue(c.closedByServer());
        }
        assertFalse(Files.exists(socket));
        assertTrue(qmp.addresses("a").isEmpty());
    }

    @Test
    void badAddressesAreRefusedWithOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> qmp.add("a", "udp:x"));
        assertEquals("a QMP address is unix:PATH or tcp:HOST:PORT, not 'udp:x'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> qmp.add("a", "tcp:127.0.0.1:99999"));
        assertThrows(IllegalArgumentException.class, () -> qmp.add("nope", "tcp:127.0.0.1:0"));
        IOException taken = assertThrows(IOException.class, () -> qmp.add("a", "unix:" + socket));
        assertTrue(taken.getMessage().contains("another process is listening there"), taken.getMessage());
        assertEquals(List.of("unix:" + socket), qmp.addresses("a"));
    }

    @Test
    void tcpOnLoopbackWithItsPortResolved() throws Exception {
        String address = qmp.add("a", "tcp:127.0.0.1:0");
        assertTrue(address.matches("tcp:127\\.0\\.0\\.1:\\d+") && !address.endsWith(":0"), address);
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertTrue(in.readLine().startsWith("{\"QMP\":"));
            s.getOutputStream().write("{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"query-name\"}\n"
                    .getBytes(StandardCharsets.UTF_8));
            assertEquals("{\"return\":{}}", in.readLine());
            assertEquals("{\"return\":{\"name\":\"a\"}}", in.readLine());
        }
        assertEquals(List.of("unix:" + socket, address), qmp.addresses("a"));
    }

    static void assertError(JsonNode reply, String errorClass, String desc) {
        assertTrue(reply.has("error"), "an error: " + reply);
        assertEquals(errorClass, reply.get("error").get("class").asText(), reply.toString());
        assertEquals(desc, reply.get("error").get("desc").asText(), reply.toString());
    }
}
