package io.godwit.qmp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.coordinator.internal.UnixTestTransport;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.tls.internal.TestPki;
import io.godwit.tls.internal.TlsObjects;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS migration driven only over QMP, as libvirt drives QEMU's: two hosts (each its own kernel,
 * coordinator, TLS objects and QMP server), a VM of the same name on each, certificates made by
 * openssl. Both sides object-add their credentials (the destination an authz-list too), set
 * tls-creds, tls-hostname and tls-authz with migrate-set-parameters, the destination runs
 * migrate-incoming and the source migrate over a unix socket, query-migrate is polled until completed,
 * and both sides object-del. The destination's oracle ends it.
 */
@Timeout(120)
class QmpTlsMigrationTest {

    @TempDir
    static Path pki;

    private static Path serverDir;
    private static Path clientDir;

    private final Host source = new Host("a", false);
    private final Host destination = new Host("b", true);

    /** One host: what a Godwit process runs, reached only through the VM's QMP socket. */
    private static final class Host {
        final VmManagerImpl vms = new VmManagerImpl();
        final Coordinator coordinator;
        final TlsObjects tls = new TlsObjects();
        final QmpService qmp;
        final Path dir;

        Host(String name, boolean incoming) {
            try {
                vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
                vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
                coordinator = new Coordinator(vms);
                coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
                coordinator.setTls(tls);
                qmp = new QmpService(vms, new QmpVersion(0, 1, 0, "Godwit test"));
                qmp.migration = coordinator;
                qmp.tls = tls;
                coordinator.addListener(qmp);
                dir = Files.createTempDirectory("godwit-qmp-tls-" + name);
                VmSpec.Builder spec = VmSpec.builder("g").memory(32 << 20).vcpus(2).workload("sweep:8M,rate=5000");
                vms.create(incoming ? spec.incoming("defer").build() : spec.build());
                qmp.add("g", "unix:" + dir.resolve("g.qmp"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        QmpClient client() throws Exception {
            return QmpClient.ready(dir.resolve("g.qmp"));
        }

        void stop() throws Exception {
            qmp.deactivate();
            coordinator.deactivate();
            vms.deactivate();
        }
    }

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed: TLS needs it");
        TestPki p = new TestPki(pki);
        Path ca = p.ca("ca");
        serverDir = folder(p, ca, "server", "server", "DNS:localhost");
        clientDir = folder(p, ca, "client", "client", null);
    }

    /**
     * A folder with QEMU's file names: {@code ca}'s certificate and an {@code endpoint} certificate for
     * {@code /O=Godwit/CN=cn}, valid from a day ago for a day more.
     */
    static Path folder(TestPki p, Path ca, String endpoint, String cn, String san) throws Exception {
        Path dir = p.leaf(ca, ca.resolveSibling(endpoint + "-" + cn), endpoint, "/O=Godwit/CN=" + cn, san,
                TestPki.dayAgo(), TestPki.dayAhead(), false);
        TestPki.trust(ca, dir);
        return dir;
    }

    @AfterEach
    void stopHosts() throws Exception {
        source.stop();
        destination.stop();
    }

    @Test
    void aTlsMigrationDrivenOnlyByQmpAsLibvirtDrivesIt() throws Exception {
        String creds = "objlibvirt_migrate_tls0"; // libvirt's id, the same on both hosts
        String uri = "unix:" + destination.dir.resolve("mig.sock");
        try (QmpClient src = source.client(); QmpClient dst = destination.client()) {
            dst.ok("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"" + creds + "\", \"dir\": \"" + serverDir
                    + "\", \"endpoint\": \"server\", \"verify-peer\": true}");
            dst.ok("object-add", "{\"qom-type\": \"authz-list\", \"id\": \"auth0\", \"policy\": \"deny\", \"rules\": ["
                    + "{\"match\": \"CN=client,O=Godwit\", \"policy\": \"allow\"}]}");
            dst.ok("migrate-set-parameters", "{\"tls-creds\": \"" + creds + "\", \"tls-authz\": \"auth0\"}");
            dst.ok("migrate-incoming", "{\"uri\": \"" + uri + "\"}");

            src.ok("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"" + creds + "\", \"dir\": \"" + clientDir
                    + "\", \"endpoint\": \"client\", \"verify-peer\": true}");
            src.ok("migrate-set-parameters", "{\"tls-creds\": \"" + creds + "\", \"tls-hostname\": \"localhost\"}");
            src.ok("migrate", "{\"uri\": \"" + uri + "\"}");

            JsonNode out = untilFinal(src);
            assertEquals("completed", out.get("status").asText(), out.toString());
            JsonNode in = untilFinal(dst);
            assertEquals("completed", in.get("status").asText(), in.toString());
            assertTrue(source.coordinator.tls("g").startsWith("TLSv1.3 "), source.coordinator.tls("g"));
            assertTrue(destination.coordinator.tls("g").contains("peer CN=client,O=Godwit"), destination.coordinator.tls("g"));

            src.ok("object-del", "{\"id\": \"" + creds + "\"}");
            dst.ok("object-del", "{\"id\": \"" + creds + "\"}");
            dst.ok("object-del", "{\"id\": \"auth0\"}");
            assertTrue(source.tls.objects().isEmpty() && destination.tls.objects().isEmpty());
            assertEquals("postmigrate", src.ok("query-status", null).get("status").asText());
            awaitRunning(dst);
            dst.ok("stop", null);
        }
        OracleVerdict verdict = destination.vms.get("g").orElseThrow().check();
        assertTrue(verdict.clean(), verdict.summary());
    }

    /**
     * libvirt names every domain's credentials objlibvirt_migrate_tls0: a second VM on the source host
     * has server credentials of that id, which must not be the migrating VM's (a client's), and deletes
     * them before the migration. tls-authz names a host-wide object of the shell; query-migrate-parameters
     * shows the ids as the client gave them.
     */
    @Test
    void twoVmsOfOneHostEachHaveLibvirtsCredentialsAndOneMigrates() throws Exception {
        String creds = "objlibvirt_migrate_tls0";
        String uri = "unix:" + destination.dir.resolve("mig.sock");
        source.vms.create(VmSpec.builder("h").memory(16 << 20).workload("sweep:4M,rate=2000").build());
        source.qmp.add("h", "unix:" + source.dir.resolve("h.qmp"));
        destination.tls.add("authz-simple,id=auth0,identity=CN=client,,O=Godwit"); // the shell's object_add
        try (QmpClient src = source.client(); QmpClient other = QmpClient.ready(source.dir.resolve("h.qmp"));
                QmpClient dst = destination.client()) {
            other.ok("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"" + creds + "\", \"dir\": \""
                    + serverDir + "\", \"endpoint\": \"server\"}");
            dst.ok("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"" + creds + "\", \"dir\": \"" + serverDir
                    + "\", \"endpoint\": \"server\", \"verify-peer\": true}");
            dst.ok("migrate-set-parameters", "{\"tls-creds\": \"" + creds + "\", \"tls-authz\": \"auth0\"}");
            JsonNode dstParams = dst.ok("query-migrate-parameters", null);
            assertEquals(creds, dstParams.get("tls-creds").asText(), dstParams.toString());
            assertEquals("auth0", dstParams.get("tls-authz").asText(), dstParams.toString());
            assertEquals("qmp1-g-" + creds, destination.coordinator.parameter("g", MigrationTextParameter.TLS_CREDS));
            assertEquals("auth0", destination.coordinator.parameter("g", MigrationTextParameter.TLS_AUTHZ));
            dst.ok("migrate-incoming", "{\"uri\": \"" + uri + "\"}");

            src.ok("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"" + creds + "\", \"dir\": \"" + clientDir
                    + "\", \"endpoint\": \"client\", \"verify-peer\": true}");
            src.ok("migrate-set-parameters", "{\"tls-creds\": \"" + creds + "\", \"tls-hostname\": \"localhost\"}");
            assertEquals(creds, src.ok("query-migrate-parameters", null).get("tls-creds").asText());
            other.ok("object-del", "{\"id\": \"" + creds + "\"}"); // h's own: g's stays
            src.ok("migrate", "{\"uri\": \"" + uri + "\"}");

            JsonNode out = untilFinal(src);
            assertEquals("completed", out.get("status").asText(), out.toString());
            assertEquals("completed", untilFinal(dst).get("status").asText());
            assertTrue(destination.coordinator.tls("g").contains("peer CN=client,O=Godwit"), destination.coordinator.tls("g"));
            awaitRunning(dst);
            dst.ok("stop", null);
        }
        OracleVerdict verdict = destination.vms.get("g").orElseThrow().check();
        assertTrue(verdict.clean(), verdict.summary());
        source.vms.destroy("g");
        assertEquals(List.of(), source.tls.objects(), "g's credentials went with g");
        destination.vms.destroy("g");
        assertEquals(List.of("auth0"), destination.tls.objects().stream().map(o -> o.id()).toList(),
                "the shell's object is the host's");
    }

    private static void awaitRunning(QmpClient dst) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        JsonNode status;
        do { // the destination resumes on its own thread, a moment after it completed
            status = dst.ok("query-status", null);
        } while (!status.get("status").asText().equals("running") && System.nanoTime() < deadline && sleep());
        assertEquals("running", status.get("status").asText(), status.toString());
    }

    /** query-migrate, polled as a client without events does, until the migration ends. */
    private static JsonNode untilFinal(QmpClient c) throws Exception {
        JsonNode info;
        do {
            info = c.ok("query-migrate", null);
        } while (!List.of("completed", "failed", "cancelled").contains(info.path("status").asText()) && sleep());
        return info;
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(20);
        return true;
    }
}
