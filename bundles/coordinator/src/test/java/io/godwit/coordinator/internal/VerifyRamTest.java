package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * verify-ram's incremental digests against a stream tampered with at the frame level: a page
 * corrupted in transit, pages the destination never received, and pages received twice with the
 * older copy last each fail the migration before the destination runs, and the source runs on
 * intact; an honest stream of the same guest completes with the oracle clean.
 */
class VerifyRamTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    VerifyRamTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-verify");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private Vm migrate(String scheme) throws InterruptedException {
        return migrate(scheme, "sweep:16M,rate=20000");
    }

    /**
     * A sweep keeps pages changing, so an early batch's copies are older than the last ones; a static
     * guest ({@code fill}, finished before the migration) makes the first pass's last batch the last
     * copy of its pages, which no later pass heals.
     */
    private Vm migrate(String scheme, String workload) throws InterruptedException {
        int vcpus = workload.equals("fill") ? 1 : 2;
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).vcpus(vcpus).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(64 << 20).vcpus(vcpus).workload(workload).incoming("defer").build());
        long deadline = System.currentTimeMillis() + 20_000;
        while (workload.equals("fill") && src.cpus().get(0).progress() < 16384 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(300); // the sweep has written part of its range: pages with bytes, pages that change
        coordinator.setCapability("src", MigrationCapability.VERIFY_RAM, true);
        String uri = scheme + ":" + dir.resolve(scheme + ".sock");
        coordinator.incoming("dst", uri);
        if (!workload.equals("fill")) {
            // A few passes first (no pass fits 1 ms), so the sweep has moved on past the first pass's pages.
            coordinator.setParameter("src", io.godwit.api.migration.MigrationParameter.DOWNTIME_LIMIT, 1);
        }
        coordinator.migrate("src", uri);
        long passes = System.currentTimeMillis() + 20_000;
        // And long enough that the sweep (each page rewritten every 205 ms: 4096 pages at 20000/s) has
        // rewritten every page of the first pass since: passes over a few dirty pages take milliseconds.
        while (!workload.equals("fill") && (coordinator.info("src").ram().dirtySyncCount() < 4
                || coordinator.info("src").totalTimeMs() < 500) && System.currentTimeMillis() < passes) {
            Thread.sleep(5);
        }
        coordinator.setParameter("src", io.godwit.api.migration.MigrationParameter.DOWNTIME_LIMIT, 300);
        await("src");
        await("dst");
        return src;
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!coordinator.info(vm).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        return coordinator.info(vm);
    }

    @Test
    void anHonestStreamCompletesAndBothSidesTookTheirDigests() throws Exception {
        migrate("unix");
        MigrationInfo out = coordinator.info("src");
        MigrationInfo in = coordinator.info("dst");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertTrue(out.verifyRamMs() >= 0 && in.verifyRamMs() >= 0, out + "\n" + in);
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    @Test
    void aPageCorruptedInTransitFailsTheMigrationBeforeTheDestinationRuns() throws Exception {
        assertRefused(TamperingTransport.Tamper.FLIP, "fill");
    }

    @Test
    void pagesTheDestinationNeverReceivedFailTheMigration() throws Exception {
        assertRefused(TamperingTransport.Tamper.DROP, "fill");
    }

    @Test
    void pagesReceivedTwiceWithTheOlderCopyLastFailTheMigration() throws Exception {
        assertRefused(TamperingTransport.Tamper.REPLAY, "sweep:16M,rate=20000");
    }

    private void assertRefused(TamperingTransport.Tamper tamper, String workload) throws Exception {
        TamperingTransport t = new TamperingTransport(tamper, 3);
        coordinator.addTransport(t, Map.of(Transport.SCHEME, "tamper"));
        Vm src = migrate("tamper", workload);
        assertTrue(t.done(), "the stream was not tampered with: the test tested nothing");
        MigrationInfo in = coordinator.info("dst");
        MigrationInfo out = coordinator.info("src");
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        assertTrue(in.error().contains("verify-ram"), in.error());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state(), "the destination ran a bad copy");
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        assertEquals(RunState.RUNNING, src.state(), "the source must run on");
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), src.check().toString());
    }
}
