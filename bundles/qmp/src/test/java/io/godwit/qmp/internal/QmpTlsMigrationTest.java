package io.godwit.qmp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyTracker;
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
            long deadline = System.nanoTime() + 30_000_000_000L;
            JsonNode status;
            do { // the destination resumes on its own thread, a moment after it completed
                status = dst.ok("query-status", null);
            } while (!status.get("status").asText().equals("running") && System.nanoTime() < deadline && sleep());
            assertEquals("running", status.get("status").asText(), status.toString());
            dst.ok("stop", null);
        }
        OracleVerdict verdict = destination.vms.get("g").orElseThrow().check();
        assertTrue(verdict.clean(), verdict.summary());
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
