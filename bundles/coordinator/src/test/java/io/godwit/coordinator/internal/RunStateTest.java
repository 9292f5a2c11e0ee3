package io.godwit.coordinator.internal;

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
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Who decides whether the guest runs: never two hosts at once. The source takes its run state at the
 * moment it stops the guest, refuses the user's {@code cont} while the migration owns the run state,
 * and a destination that started the guest has completed, whatever its return path says afterwards.
 * Every migration ends with the destination's oracle.
 */
class RunStateTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;
    private final BrokenReturnPathTransport broken = new BrokenReturnPathTransport();

    RunStateTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        coordinator.addTransport(broken, Map.of(Transport.SCHEME, "broken"));
        dir = Files.createTempDirectory("godwit-runstate");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private Vm pair() {
        String workload = "sweep:16M,rate=20000";
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).vcpus(2).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(64 << 20).vcpus(2).workload(workload).incoming("defer").build());
        return src;
    }

    private Vm dst() {
        return vms.get("dst").orElseThrow();
    }

    private MigrationInfo await(String vm, Predicate<MigrationInfo> until) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        MigrationInfo info;
        while (!until.test(info = coordinator.info(vm)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        return info;
    }

    private MigrationInfo awaitFinal(String vm) throws InterruptedException {
        return await(vm, i -> i.status().isFinal());
    }

    /** Keeps the migration in precopy (no pass fits 1 ms) until {@link #letItConverge}. */
    private void startSlowMigration(String uri) {
        coordinator.incoming("dst", uri);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 16 << 20);
        coordinator.migrate("src", uri);
    }

    private void letItConverge() {
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
    }

    private void assertDestinationClean() throws InterruptedException {
        Vm dst = dst();
        if (dst.state() == RunState.RUNNING) {
            dst.stop(RunState.PAUSED);
        }
        var verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    /** Item 2 of issue 17: the guest the operator paused in precopy stays paused on the destination. */
    @Test
    void aSourcePausedDuringPrecopyEndsPausedOnTheDestination() throws Exception {
        Vm src = pair();
        startSlowMigration("unix:" + dir.resolve("p.sock"));
        await("src", i -> i.ram().dirtySyncCount() >= 2);
        src.stop(RunState.PAUSED);
        letItConverge();
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("src").status());
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("dst").status());
        assertEquals(RunState.POSTMIGRATE, src.state());
        assertEquals(RunState.PAUSED, dst().state(), "the guest was paused when the source stopped it");
        dst().cont(); // the user's choice: it runs on from where it was paused
        Thread.sleep(100);
        assertDestinationClean();
    }

    /** And a switchover that fails does not resume a guest the operator paused. */
    @Test
    void aSourcePausedDuringPrecopyStaysPausedWhenTheSwitchoverIsCancelled() throws Exception {
        Vm src = pair();
        coordinator.setCapability("src", MigrationCapability.PAUSE_BEFORE_SWITCHOVER, true);
        startSlowMigration("unix:" + dir.resolve("c.sock"));
        await("src", i -> i.ram().dirtySyncCount() >= 2);
        src.stop(RunState.PAUSED);
        letItConverge();
        assertEquals(MigrationStatus.PRE_SWITCHOVER, await("src",
                i -> i.status() == MigrationStatus.PRE_SWITCHOVER || i.status().isFinal()).status());
        coordinator.cancel("src");
        assertEquals(MigrationStatus.CANCELLED, awaitFinal("src").status());
        assertEquals(RunState.PAUSED, src.state(), "a failed switchover must not resume a paused guest");
        assertTrue(src.check().clean(), src.check().toString());
        assertEquals(RunState.INMIGRATE, dst().state());
    }

    /** Item 3: cont in pre-switchover would run the guest on both hosts. */
    @Test
    void contAndStopAreRefusedWhileTheMigrationOwnsTheRunState() throws Exception {
        Vm src = pair();
        coordinator.setCapability("src", MigrationCapability.PAUSE_BEFORE_SWITCHOVER, true);
        coordinator.incoming("dst", "unix:" + dir.resolve("s.sock"));
        coordinator.migrate("src", "unix:" + dir.resolve("s.sock"));
        assertEquals(MigrationStatus.PRE_SWITCHOVER, await("src",
                i -> i.status() == MigrationStatus.PRE_SWITCHOVER || i.status().isFinal()).status());
        IllegalStateException cont = assertThrows(IllegalStateException.class, src::cont);
        assertTrue(cont.getMessage().contains("finish-migrate"), cont.getMessage());
        assertThrows(IllegalStateException.class, () -> src.stop(RunState.PAUSED));
        assertEquals(RunState.FINISH_MIGRATE, src.state());
        coordinator.continueMigration("src");
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("src").status());
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("dst").status());
        assertEquals(RunState.POSTMIGRATE, src.state());
        assertEquals(RunState.RUNNING, dst().state());
        src.cont(); // after the migration, the stopped source is the user's again
        assertEquals(RunState.RUNNING, src.state());
        assertDestinationClean();
    }

    /** Item 1: the return path breaks after LOADED; the destination runs the guest, so it completed. */
    @Test
    void aDestinationWhoseReturnPathBreaksAfterLoadedReportsCompletedAndRuns() throws Exception {
        Vm src = pair();
        String uri = "broken:" + dir.resolve("b.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        MigrationInfo in = awaitFinal("dst");
        MigrationInfo out = awaitFinal("src");
        assertTrue(broken.broke(), "the return path was not broken after LOADED: the test tested nothing");
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertEquals(RunState.RUNNING, dst().state());
        // The source heard LOADED but not RESUMED: the destination may run the guest, so it stays paused.
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        assertEquals(RunState.PAUSED, src.state());
        coordinator.cancel("dst"); // too late: it changes nothing
        assertEquals(MigrationStatus.COMPLETED, coordinator.info("dst").status());
        assertDestinationClean();
    }
}
