package io.godwit.qmp.internal;

import static io.godwit.qmp.internal.QmpProtocolTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.coordinator.internal.UnixTestTransport;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Migrations driven over QMP alone, between two VMs of one host (the real kernel and coordinator over
 * unix sockets): QEMU's capability, parameter and query-migrate members, the MIGRATION and
 * MIGRATION_PASS events and their gating by the {@code events} capability, and the destination's oracle.
 */
class QmpMigrationTest {

    private static final String WORKLOAD = "sweep:8M,rate=5000";

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final QmpService qmp;
    private final Path dir;
    private final ThreadIOImpl threadIo = new ThreadIOImpl();

    QmpMigrationTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        qmp = new QmpService(vms, new QmpVersion(0, 1, 0, "Godwit test"));
        qmp.migration = coordinator;
        coordinator.addListener(qmp);
        dir = Files.createTempDirectory("godwit-qmp-mig");
        vms.create(VmSpec.builder("src").memory(32 << 20).vcpus(2).workload(WORKLOAD).build());
        vms.create(VmSpec.builder("dst").memory(32 << 20).vcpus(2).workload(WORKLOAD).incoming("defer").build());
        qmp.add("src", "unix:" + dir.resolve("src.qmp"));
        qmp.add("dst", "unix:" + dir.resolve("dst.qmp"));
    }

    @AfterEach
    void close() throws Exception {
        qmp.deactivate();
        coordinator.deactivate();
        vms.deactivate();
        threadIo.stop();
    }

    @Test
    void tlsParametersAreStringsAsInQemu() throws Exception {
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"))) {
            assertEquals("", src.ok("query-migrate-parameters", null).get("tls-creds").asText());
            src.ok("migrate-set-parameters", "{\"tls-creds\": \"tls0\", \"tls-hostname\": \"dst.example.com\"}");
            JsonNode params = src.ok("query-migrate-parameters", null);
            assertEquals("tls0", params.get("tls-creds").asText());
            assertEquals("dst.example.com", params.get("tls-hostname").asText());
            assertEquals("", params.get("tls-authz").asText());
        }
    }

    @Test
    void aWholeMigrationOverQmpWithEventsAndQemusMembers() throws Exception {
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"));
                QmpClient dst = QmpClient.ready(dir.resolve("dst.qmp"))) {
            String events = "{\"capabilities\": [{\"capability\": \"events\", \"state\": true}]}";
            src.ok("migrate-set-capabilities", events);
            dst.ok("migrate-set-capabilities", events);
            assertEquals("{}", src.ok("query-migrate", null).toString(), "no migration yet: {} as in QEMU");
            src.ok("migrate-set-parameters", "{\"downtime-limit\": 250, \"max-bandwidth\": 1073741824}");
            JsonNode params = src.ok("query-migrate-parameters", null);
            assertEquals(250, params.get("downtime-limit").asLong());
            assertEquals(1073741824L, params.get("max-bandwidth").asLong());
            assertEquals("none", params.get("stall-action").asText());
            JsonNode caps = src.ok("query-migrate-capabilities", null);
            assertEquals(MigrationCapability.values().length, caps.size());
            assertTrue(caps.toString().contains("{\"capability\":\"events\",\"state\":true}"), caps.toString());

            String uri = "unix:" + dir.resolve("mig.sock");
            dst.ok("migrate-incoming", "{\"uri\": \"" + uri + "\"}");
            assertEquals("MIGRATION", dst.event("MIGRATION").get("event").asText());
            JsonNode waiting = dst.ok("query-migrate", null);
            assertEquals("[{\"type\":\"unix\",\"path\":\"" + dir.resolve("mig.sock") + "\"}]",
                    waiting.get("socket-address").toString(), waiting.toString());
            src.ok("migrate", "{\"uri\": \"" + uri + "\", \"detach\": true}");

            List<String> statuses = new ArrayList<>();
            String status;
            do {
                JsonNode e = src.event("MIGRATION");
                status = e.get("data").get("status").asText();
                statuses.add(status);
            } while (!status.equals("completed") && !status.equals("failed"));
            assertEquals("completed", status, statuses.toString());
            assertEquals("setup", statuses.getFirst(), statuses.toString());
            assertTrue(statuses.contains("active"), statuses.toString());
            JsonNode pass = src.event("MIGRATION_PASS");
            assertEquals(1, pass.get("data").get("pass").asLong(), pass.toString());

            JsonNode info = src.ok("query-migrate", null);
            assertEquals("completed", info.get("status").asText());
            for (String member : List.of("total-time", "setup-time", "downtime")) {
                assertTrue(info.get(member).asLong() >= 0, member + " in " + info);
            }
            assertFalse(info.has("expected-downtime"), "QEMU shows downtime once completed: " + info);
            JsonNode ram = info.get("ram");
            assertEquals(32L << 20, ram.get("total").asLong());
            assertTrue(ram.get("transferred").asLong() > 0, ram.toString());
            assertTrue(ram.get("normal").asLong() + ram.get("duplicate").asLong() >= (32 << 20) / 4096, ram.toString());
            assertEquals(ram.get("normal").asLong() * 4096, ram.get("normal-bytes").asLong(), ram.toString());
            for (String member : List.of("remaining", "dirty-pages-rate", "mbps", "dirty-sync-count", "pages-per-second")) {
                assertTrue(ram.has(member), member + " in " + ram);
            }
            assertTrue(ram.get("dirty-sync-count").asLong() >= 1, ram.toString());
            assertEquals(4096, ram.get("page-size").asLong(), ram.toString());
            assertEquals(0, ram.get("postcopy-bytes").asLong(), ram.toString());
            assertTrue(ram.get("precopy-bytes").asLong() > 0 && ram.get("downtime-bytes").asLong() > 0, ram.toString());
            assertEquals(ram.get("transferred").asLong(),
                    ram.get("precopy-bytes").asLong() + ram.get("downtime-bytes").asLong(), ram.toString());
            assertTrue(info.get("x-godwit").get("observed-downtime").asLong() >= 0, info.toString());

            String dstStatus;
            do { // the destination completes on its own thread, a moment after the source
                dstStatus = dst.event("MIGRATION").get("data").get("status").asText();
            } while (!dstStatus.equals("completed") && !dstStatus.equals("failed"));
            assertEquals("completed", dst.ok("query-migrate", null).get("status").asText());
            assertEquals("RESUME", dst.event("RESUME").get("event").asText());
            JsonNode running = dst.ok("query-status", null);
            assertEquals("running", running.get("status").asText(), running.toString());
            assertEquals("postmigrate", src.ok("query-status", null).get("status").asText());
            dst.ok("stop", null);
        }
        OracleVerdict verdict = vms.get("dst").orElseThrow().check();
        assertTrue(verdict.clean(), verdict.summary());
    }

    @Test
    void queryMigrateAnswersWhileAMigrationWaitsAndMigrateContinueFinishesIt() throws Exception {
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"));
                QmpClient poller = QmpClient.ready(dir.resolve("src.qmp"))) {
            src.ok("migrate-set-capabilities", "{\"capabilities\": [{\"capability\": \"events\", \"state\": true},"
                    + " {\"capability\": \"pause-before-switchover\", \"state\": true}]}");
            String uri = "unix:" + dir.resolve("wait.sock");
            coordinator.incoming("dst", uri);
            src.ok("migrate", "{\"uri\": \"" + uri + "\"}");
            String status;
            do {
                status = src.event("MIGRATION").get("data").get("status").asText();
            } while (!status.equals("pre-switchover") && !status.equals("failed"));
            assertEquals("pre-switchover", status);
            JsonNode info = poller.ok("query-migrate", null); // another client, while the migration waits
            assertEquals("pre-switchover", info.get("status").asText(), info.toString());
            assertTrue(info.get("ram").get("transferred").asLong() > 0, info.toString());
            assertTrue(info.get("total-time").asLong() >= 0, info.toString());
            assertFalse(info.has("downtime"), "not known before the switchover: " + info);
            src.ok("migrate-continue", "{\"state\": \"pre-switchover\"}");
            do {
                status = src.event("MIGRATION").get("data").get("status").asText();
            } while (!status.equals("completed") && !status.equals("failed"));
            assertEquals("completed", status, poller.ok("query-migrate", null).toString());
        }
        awaitRunning("dst");
        vms.get("dst").orElseThrow().stop(RunState.PAUSED);
        assertTrue(vms.get("dst").orElseThrow().check().clean());
    }

    @Test
    void postcopyOverQmpShowsQemusPostcopyMembers() throws Exception {
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"));
                QmpClient dst = QmpClient.ready(dir.resolve("dst.qmp"))) {
            String caps = "{\"capabilities\": [{\"capability\": \"events\", \"state\": true},"
                    + " {\"capability\": \"postcopy-ram\", \"state\": true}]}";
            src.ok("migrate-set-capabilities", caps);
            dst.ok("migrate-set-capabilities", caps);
            JsonNode early = src.execute("migrate-pause"); // QEMU's: only a live postcopy can be paused
            assertEquals("GenericError", early.get("error").get("class").asText(), early.toString());
            assertTrue(early.get("error").get("desc").asText().startsWith("migrate-pause is currently only supported"
                    + " during postcopy-active or postcopy-recover state"), early.toString());
            String uri = "unix:" + dir.resolve("pc.sock");
            dst.ok("migrate-incoming", "{\"uri\": \"" + uri + "\"}");
            src.ok("migrate", "{\"uri\": \"" + uri + "\"}");
            src.ok("migrate-start-postcopy", null); // before the first pass: every page is still to come
            String status;
            do {
                status = dst.event("MIGRATION").get("data").get("status").asText();
            } while (!status.equals("completed") && !status.equals("failed"));
            JsonNode in = dst.ok("query-migrate", null);
            assertEquals("completed", status, in.toString());
            assertTrue(in.get("postcopy-blocktime").asLong() >= 0, in.toString());
            assertEquals(2, in.get("postcopy-vcpu-blocktime").size(), "one per vCPU: " + in);
            assertTrue(in.get("x-godwit").has("postcopy-faults"), in.toString());
            do {
                status = src.event("MIGRATION").get("data").get("status").asText();
            } while (!status.equals("completed") && !status.equals("failed"));
            assertEquals("completed", status);
            JsonNode out = src.ok("query-migrate", null);
            assertTrue(out.has("downtime"), out.toString());
            JsonNode ram = out.get("ram"); // postcopy started before the first pass: all of it came after the stop
            assertTrue(ram.get("postcopy-bytes").asLong() >= ram.get("normal-bytes").asLong(), ram.toString());
            assertEquals(0, ram.get("downtime-bytes").asLong(), ram.toString());
            assertEquals(ram.get("transferred").asLong(),
                    ram.get("precopy-bytes").asLong() + ram.get("postcopy-bytes").asLong(), ram.toString());
        }
        awaitRunning("dst");
        vms.get("dst").orElseThrow().stop(RunState.PAUSED);
        assertTrue(vms.get("dst").orElseThrow().check().clean());
    }

    private void awaitRunning(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (vms.get(vm).orElseThrow().state() != RunState.RUNNING && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(RunState.RUNNING, vms.get(vm).orElseThrow().state());
    }

    @Test
    void withoutTheEventsCapabilityNoMigrationEvents() throws Exception {
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"))) {
            String uri = "unix:" + dir.resolve("quiet.sock");
            coordinator.incoming("dst", uri);
            src.ok("migrate", "{\"uri\": \"" + uri + "\"}");
            JsonNode info;
            do {
                Thread.sleep(20);
                info = src.ok("query-migrate", null);
            } while (!List.of("completed", "failed", "cancelled").contains(info.get("status").asText()));
            assertEquals("completed", info.get("status").asText(), info.toString());
            awaitRunning("dst");
            assertEquals("STOP", src.event("STOP").get("event").asText(), "STOP is not gated");
            src.ok("query-name", null); // anything queued before this reply has been read
            assertTrue(src.events.stream().noneMatch(e -> e.get("event").asText().startsWith("MIGRATION")),
                    src.events.toString());
        }
        vms.get("dst").orElseThrow().stop(RunState.PAUSED);
        assertTrue(vms.get("dst").orElseThrow().check().clean());
    }

    @Test
    void settingsAreAllOrNothingAndRangeChecked() throws Exception {
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"))) {
            assertError(src.execute("migrate-set-parameters", "{\"downtime-limit\": 100, \"max-cpu-throttle\": 100}"),
                    "GenericError", "Parameter 'max-cpu-throttle' expects max-cpu-throttle must be between 1 and 99 %, not 100");
            assertError(src.execute("migrate-set-parameters", "{\"downtime-limit\": 100, \"announce-rounds\": 4}"),
                    "GenericError", "Parameter 'announce-rounds' is unexpected");
            assertError(src.execute("migrate-set-parameters", "{\"multifd-compression\": \"lz4\"}"),
                    "GenericError", "Parameter 'multifd-compression' does not accept value 'lz4'");
            assertError(src.execute("migrate-set-parameters", "{\"stall-action\": \"panic\"}"),
                    "GenericError", "Parameter 'stall-action' does not accept value 'panic'");
            assertEquals(MigrationParameter.DOWNTIME_LIMIT.defaultValue(),
                    coordinator.parameter("src", MigrationParameter.DOWNTIME_LIMIT), "nothing was set");
            assertError(src.execute("migrate-set-capabilities", "{\"capabilities\": ["
                            + "{\"capability\": \"auto-converge\", \"state\": true},"
                            + "{\"capability\": \"x-colo\", \"state\": true}]}"),
                    "GenericError", "Parameter 'capabilities[1].capability' does not accept value 'x-colo'");
            assertFalse(coordinator.capability("src", MigrationCapability.AUTO_CONVERGE), "nothing was set");
            src.ok("migrate-set-parameters", "{\"stall-action\": \"postcopy\", \"cpu-throttle-initial\": 30}");
            src.ok("migrate-set-parameters", "{\"multifd-channels\": 4, \"multifd-compression\": \"zstd\"}");
            assertEquals(4, coordinator.parameter("src", MigrationParameter.MULTIFD_CHANNELS));
            assertEquals(2, coordinator.parameter("src", MigrationParameter.MULTIFD_COMPRESSION));
            assertEquals(2, coordinator.parameter("src", MigrationParameter.STALL_ACTION));
            assertEquals(30, coordinator.parameter("src", MigrationParameter.CPU_THROTTLE_INITIAL));
            assertError(src.execute("migrate-continue", "{\"state\": \"pre-switchover\"}"), "GenericError",
                    firstLineOf(() -> coordinator.continueMigration("src")));
            assertError(src.execute("migrate-continue", "{\"state\": \"sleeping\"}"), "GenericError",
                    "Parameter 'state' does not accept value 'sleeping'");
            assertError(src.execute("migrate-start-postcopy"), "GenericError",
                    firstLineOf(() -> coordinator.startPostcopy("src")));
            assertError(src.execute("migrate", "{\"uri\": \"nope:x\"}"), "GenericError",
                    firstLineOf(() -> coordinator.migrate("src", "nope:x")));
            assertEquals(RunState.RUNNING, vms.get("src").orElseThrow().state());
        }
    }

    @Test
    void humanMonitorCommandRunsOneShellLineAndReturnsItsText() throws Exception {
        threadIo.start();
        CommandProcessorImpl gogo = new CommandProcessorImpl(threadIo);
        gogo.addCommand("godwit", new Object() {
            @SuppressWarnings("unused")
            public String hello(String who) {
                if (who.equals("nobody")) {
                    throw new IllegalArgumentException("no one to greet");
                }
                System.out.println("printed");
                return "hello " + who;
            }
        }, "hello");
        qmp.processor = gogo;
        try (QmpClient src = QmpClient.ready(dir.resolve("src.qmp"))) {
            assertEquals("printed\nhello src\n", src.ok("human-monitor-command", "{\"command-line\": \"hello src\"}").asText());
            assertEquals("Error: no one to greet\n",
                    src.ok("human-monitor-command", "{\"command-line\": \"hello nobody\"}").asText());
            assertError(src.execute("human-monitor-command", "{}"), "GenericError", "Parameter 'command-line' is missing");
        }
    }

    private static String firstLineOf(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            return e.getMessage().lines().findFirst().orElseThrow();
        }
        throw new AssertionError("expected a failure");
    }
}
