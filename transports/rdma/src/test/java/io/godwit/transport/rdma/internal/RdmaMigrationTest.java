package io.godwit.transport.rdma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real migrations over rdma in one JVM: two VMs, the coordinator, a real control socket and the
 * destination's RAM in a shared file that the source writes into; the sweep oracle after each.
 */
@Timeout(120)
class RdmaMigrationTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    @TempDir
    Path dir;
    private Path keys;
    private CountingTransport rdma;

    RdmaMigrationTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
    }

    @BeforeEach
    void transport() {
        keys = dir.resolve("keys");
        rdma = new CountingTransport(TestRdma.transport(keys));
        coordinator.addTransport(rdma, Map.of(Transport.SCHEME, "rdma"));
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private Vm pair(String workload, long mem, int vcpus) {
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(vcpus).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(mem).vcpus(vcpus).workload(workload).incoming("defer")
                .memPath(dir.resolve("dst.ram")).build());
        return src;
    }

    private String listen() {
        coordinator.incoming("dst", "rdma:127.0.0.1:0");
        String uri = coordinator.info("dst").listenUri();
        assertTrue(uri != null && uri.matches("rdma:127\\.0\\.0\\.1:[1-9][0-9]*"), String.valueOf(uri));
        return uri;
    }

    private MigrationInfo await(String vm, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    private void awaitPasses(String vm, long passes) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (coordinator.info(vm).ram().dirtySyncCount() < passes && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }

    private long keyFiles() throws Exception {
        if (!Files.exists(keys)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(keys)) {
            return s.count();
        }
    }

    @Test
    void liveSweepGoesByRemoteWritesAndPassesTheOracle() throws Exception {
        // A slow sweep: pages still zero when the first pass sends them turn non-zero later, so writes
        // to pages sent as zero indices must wait for the destination to apply those (the fence).
        Vm src = pair("sweep:32M,rate=4000", 128 << 20, 2);
        String uri = listen();
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.migrate("src", uri);
        awaitPasses("src", 4);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
        MigrationInfo out = await("src", 60_000);
        MigrationInfo in = await("dst", 10_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertTrue(out.ram().dirtySyncCount() >= 4, out.toString());
        long pageBytes = out.ram().normal() * 4096;
        assertTrue(pageBytes > 0 && rdma.posted.get() == pageBytes, "every normal page went as a remote write: "
                + rdma.posted.get() + " posted for " + out.ram().normal() + " pages");
        assertTrue(rdma.streamed.get() < pageBytes / 20, "the stream carried headers, not pages: " + rdma.streamed.get());
        assertEquals(out.ram().normal(), in.ram().normal(), "the destination committed every page the source wrote");
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        Thread.sleep(200);
        dst.stop(RunState.PAUSED);
        var verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
        assertEquals(0, keyFiles(), "the destination deregistered its memory");
    }

    @Test
    void staticGuestWithVerifyRam() throws Exception {
        Vm src = pair("fill", 64 << 20, 1);
        long deadline = System.currentTimeMillis() + 20_000;
        while (src.cpus().get(0).progress() < 16384 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        String uri = listen();
        coordinator.setCapability("src", MigrationCapability.VERIFY_RAM, true);
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", 60_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(16384, out.ram().normal(), out.toString());
        assertEquals(64L << 20, rdma.posted.get());
        Vm dst = vms.get("dst").orElseThrow();
        await("dst", 10_000);
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean());
    }

    @Test
    void aSourceDyingMidWriteLeavesTheDestinationRejectingThePartialVm() throws Exception {
        Vm src = pair("sweep:32M,rate=50000", 128 << 20, 2);
        String uri = listen();
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 64 << 20);
        rdma.closeSourceAfterPosted = 16 << 20; // the control channel and queue pair die after 16 MiB
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", 60_000);
        MigrationInfo in = await("dst", 30_000);
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.INMIGRATE, dst.state(), "a partial VM never runs");
        assertEquals(RunState.RUNNING, src.state(), "the source runs on");
        assertEquals(0, keyFiles(), "the failed destination deregistered its memory");
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's memory is intact");
    }

    @Test
    void cancelMidWriteLeavesTheSourceRunningAndTheDestinationWaiting() throws Exception {
        Vm src = pair("sweep:32M,rate=50000", 128 << 20, 2);
        String uri = listen();
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 16 << 20); // 8 s for the first pass
        coordinator.migrate("src", uri);
        long deadline = System.currentTimeMillis() + 30_000;
        while (rdma.posted.get() < (4 << 20) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(MigrationStatus.ACTIVE, coordinator.info("src").status());
        coordinator.cancel("src");
        MigrationInfo out = await("src", 30_000);
        assertEquals(MigrationStatus.CANCELLED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.FAILED, await("dst", 30_000).status());
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean());
        long hca = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("rdma-qp") && t.getName().endsWith("-hca") && t.isAlive()).count();
        assertEquals(0, hca, "the source's HCA thread stopped with the channel");
    }

    @Test
    void theDestinationCanBeRetriedAfterAFailure() throws Exception {
        Vm src = pair("sweep:16M,rate=50000", 64 << 20, 1);
        String uri = listen();
        rdma.closeSourceAfterPosted = 256 << 10;
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
        coordinator.migrate("src", uri);
        assertEquals(MigrationStatus.FAILED, await("src", 60_000).status());
        assertEquals(MigrationStatus.FAILED, await("dst", 30_000).status());
        rdma.closeSourceAfterPosted = Long.MAX_VALUE;
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.migrate("src", listen());
        MigrationInfo out = await("src", 60_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(MigrationStatus.COMPLETED, await("dst", 10_000).status());
        dst.stop(RunState.PAUSED);
        var verdict = dst.check();
        assertTrue(verdict.clean(), "pages of the failed attempt do not count: " + verdict);
    }

    @Test
    void anAnonymousDestinationIsRefusedBeforeListening() {
        vms.create(VmSpec.builder("dst").memory(16 << 20).incoming("defer").build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> coordinator.incoming("dst", "rdma:127.0.0.1:0"));
        assertTrue(e.getMessage().contains("--mem-path"), e.getMessage());
        assertEquals(MigrationStatus.NONE, coordinator.info("dst").status());
    }

    @Test
    void withoutTheReturnPathTheSourceRefusesUpFrontAndRunsOn() throws Exception {
        Vm src = pair("sweep:8M,rate=50000", 32 << 20, 1);
        String uri = listen();
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> coordinator.migrate("src", uri));
        assertTrue(e.getMessage().contains("return-path on"), e.getMessage());
        assertEquals(MigrationStatus.NONE, coordinator.info("src").status(), "nothing started");
        assertEquals(0, rdma.connects.get(), "refused before connecting");
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's memory is intact");
    }
}
