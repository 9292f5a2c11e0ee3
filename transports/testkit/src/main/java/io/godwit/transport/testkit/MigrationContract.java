package io.godwit.transport.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The second half of the kit: real migrations over the transport, outside OSGi (the kernel, the
 * synthetic CPU and the coordinator constructed directly), each checked with the sweep oracle. A
 * one-way transport (no {@link TransportCapability#BIDIRECTIONAL} for the address) runs with
 * {@code return-path} off, as it must.
 */
@Timeout(180)
public abstract class MigrationContract {

    protected VmManagerImpl vms;
    protected Coordinator coordinator;

    /** The transport under test, constructed directly. */
    protected abstract Transport transport();

    protected abstract String scheme();

    /** A fresh URI for the destination's {@code migrate_incoming}, for example {@code tcp:127.0.0.1:0}. */
    protected abstract String incomingUri() throws IOException;

    /** The URI the source migrates to, given the destination's listen URI (with its real port). */
    protected String outgoingUri(String listenUri) throws IOException {
        return listenUri;
    }

    @BeforeEach
    void host() {
        vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(transport(), Map.of(Transport.SCHEME, scheme()));
    }

    @AfterEach
    void stopHost() throws InterruptedException {
        coordinator.deactivate();
        vms.deactivate();
    }

    private Vm pair(String workload, long mem) {
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(2).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(mem).vcpus(2).workload(workload).incoming("defer").build());
        return src;
    }

    /** Starts the destination and then the source; return-path follows what the address offers. */
    private void start(String incoming) throws IOException {
        coordinator.incoming("dst", incoming);
        String listen = coordinator.info("dst").listenUri();
        String outgoing = outgoingUri(listen == null ? incoming : listen);
        String address = outgoing.substring(outgoing.indexOf(':') + 1);
        boolean twoWay = transport().capabilities(address).contains(TransportCapability.BIDIRECTIONAL);
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, twoWay);
        coordinator.migrate("src", outgoing);
    }

    protected MigrationInfo await(String vm, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    @Test
    void aLiveSweepMigratesInSeveralPassesAndPassesTheOracle() throws Exception {
        Vm src = pair("sweep:32M,rate=50000", 128 << 20); // a known dirty rate, not the host's speed
        // a small bandwidth and downtime-limit keep it iterating; then they are lifted
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        start(incomingUri());
        long deadline = System.currentTimeMillis() + 60_000;
        while (coordinator.info("src").ram().dirtySyncCount() < 3 && System.currentTimeMillis() < deadline
                && !coordinator.info("src").status().isFinal()) {
            Thread.sleep(20);
        }
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
        MigrationInfo out = await("src", 120_000);
        MigrationInfo in = await("dst", 60_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertTrue(out.ram().dirtySyncCount() >= 3, "passes: " + out.ram().dirtySyncCount());
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        Thread.sleep(200); // the destination sweeps on from where the source stopped
        dst.stop(RunState.PAUSED);
        OracleVerdict verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    @Test
    void aCancelMidStreamLeavesTheSourceRunningAndTheDestinationRefusingThePartialVm() throws Exception {
        Vm src = pair("sweep:32M,rate=50000", 128 << 20);
        // Until the sweep has written its range once, most of it is zero pages, which cost no
        // bandwidth: the migration could end before the cancel. Then 32 MiB at 8 MiB/s take 4 s.
        long deadline0 = System.currentTimeMillis() + 60_000;
        while (src.cpus().stream().mapToLong(c -> c.progress()).sum() < 8192
                && System.currentTimeMillis() < deadline0) {
            Thread.sleep(20);
        }
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 8 << 20); // slow: cancelled mid-stream
        start(incomingUri());
        long deadline = System.currentTimeMillis() + 60_000;
        while (coordinator.info("src").ram().transferred() < (4 << 20) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        coordinator.cancel("src");
        assertEquals(MigrationStatus.CANCELLED, await("src", 60_000).status());
        assertEquals(RunState.RUNNING, src.state());
        MigrationInfo in = await("dst", 60_000);
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.INMIGRATE, dst.state());
        assertNotEquals(RunState.RUNNING, dst.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's guest is intact");
    }
}
