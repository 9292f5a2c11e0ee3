package io.godwit.transport.rdma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.tls.internal.TestPki;
import io.godwit.tls.internal.TlsObjects;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * rdma with TLS: the control channel (stream, return path, the registration descriptors) is
 * encrypted and the pages still go by remote writes into the destination's RAM file. In this
 * package for the transport's package-private constructor (outside OSGi, on the test class path).
 */
@Timeout(120)
class RdmaOverTlsTest {

    @TempDir
    Path dir;

    private final VmManagerImpl vms = new VmManagerImpl();
    private Coordinator coordinator;

    @AfterEach
    void close() throws Exception {
        if (coordinator != null) {
            coordinator.deactivate();
        }
        vms.deactivate();
    }

    @Test
    void theControlChannelIsTlsAndThePagesGoByRemoteWrites() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed");
        TestPki.serverAndClient(dir);
        TlsObjects tls = new TlsObjects();
        tls.add("tls-creds-x509,id=s,endpoint=server,dir=" + dir.resolve("server"));
        tls.add("tls-creds-x509,id=c,endpoint=client,dir=" + dir.resolve("client"));

        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.setTls(tls);
        coordinator.addTransport(new RdmaTransport(2_000, dir.resolve("keys")), Map.of(Transport.SCHEME, "rdma"));
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).vcpus(2).workload("fill").build());
        vms.create(VmSpec.builder("dst").memory(64 << 20).vcpus(2).workload("fill").incoming("defer")
                .memPath(dir.resolve("dst.ram")).build());
        coordinator.setParameter("src", MigrationTextParameter.TLS_CREDS, "c");
        coordinator.setParameter("dst", MigrationTextParameter.TLS_CREDS, "s");
        long deadline = System.currentTimeMillis() + 60_000;
        while (src.cpus().stream().mapToLong(c -> c.progress()).sum() < (64 << 20) / 4096
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20); // every page written: the migration has normal pages to write remotely
        }
        coordinator.incoming("dst", "rdma:127.0.0.1:0");
        coordinator.migrate("src", coordinator.info("dst").listenUri());
        MigrationInfo out = await("src");
        MigrationInfo in = await("dst");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.error()));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
        assertTrue(coordinator.tls("src").startsWith("TLSv1.3"), coordinator.tls("src"));
        assertTrue(coordinator.tls("dst").contains("peer CN=client,O=Godwit"), coordinator.tls("dst"));
        // the pages were not in the (encrypted) stream: it carried far fewer bytes than the pages
        assertTrue(out.ram().normal() >= (64 << 20) / 4096 / 2, "normal pages: " + out.ram().normal());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        dst.stop(RunState.PAUSED);
        var verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }
}
