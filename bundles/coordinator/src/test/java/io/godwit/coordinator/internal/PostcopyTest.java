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
 * Postcopy between two VMs in one JVM over a real unix socket: a full-speed sweep that precopy can
 * never finish completes, the destination's guest runs before its RAM arrived and faults in what it
 * touches, and the a-b oracle finds every page (a page lost or placed over a newer store shows as a
 * bad page).
 */
class PostcopyTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;
    private final CuttableTransport cuttable = new CuttableTransport();

    PostcopyTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        coordinator.addTransport(cuttable, Map.of(Transport.SCHEME, "cut"));
        dir = Files.createTempDirectory("godwit-postcopy");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private Vm pair(String workload, long mem, int vcpus) {
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(vcpus).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(mem).vcpus(vcpus).workload(workload).incoming("defer").build());
        return src;
    }

    private MigrationInfo await(String vm, Predicate<MigrationInfo> until) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        MigrationInfo info;
        while (!until.test(info = coordinator.info(vm)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        return info;
    }

    private void bothPostcopy() {
        coordinator.setCapability("src", MigrationCapability.POSTCOPY_RAM, true);
        coordinator.setCapability("dst", MigrationCapability.POSTCOPY_RAM, true);
    }

    @Test
    void aFullSpeedSweepCompletesInPostcopyWithTheOracleClean() throws Exception {
        Vm src = pair("sweep", 128 << 20, 2);
        bothPostcopy();
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1); // precopy must not finish first
        String uri = "unix:" + dir.resolve("pc.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        await("src", i -> i.ram().dirtySyncCount() >= 2 || i.status().isFinal());
        coordinator.startPostcopy("src");
        MigrationInfo out = await("src", i -> i.status().isFinal());
        MigrationInfo in = await("dst", i -> i.status().isFinal());
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        assertTrue(in.postcopy().requests() > 0, "the guest never faulted: " + in.postcopy());
        assertTrue(in.postcopy().latencyMedianUs() > 0, in.postcopy().toString());
        assertEquals(null, dst.memory().postcopy(), "postcopy did not end on the memory");
        // QEMU's split: the full pass went while the guest ran here, the rest from postcopy's stop on
        MigrationInfo.RamStats r = out.ram();
        // (pages the sweep had not reached when the pass began went as zero pages, a few bytes each)
        assertTrue(r.precopyBytes() >= (128L << 20) - r.duplicate() * 4096 && r.postcopyBytes() > 0
                && r.downtimeBytes() == 0, r.toString());
        assertEquals(r.transferred(), r.precopyBytes() + r.postcopyBytes(), r.toString());
        Thread.sleep(100); // it sweeps on without faults
        dst.stop(RunState.PAUSED);
        var verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
        System.out.printf("postcopy: total %d ms, downtime %d ms, observed %d ms, %s%n", out.totalTimeMs(),
                out.downtimeMs(), out.observedDowntimeMs(), in.postcopy());
    }

    @Test
    void startPostcopyWithoutTheCapabilityIsRefused() throws Exception {
        pair("sweep:16M,rate=20000", 64 << 20, 1);
        String uri = "unix:" + dir.resolve("no.sock");
        coordinator.incoming("dst", uri);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.migrate("src", uri);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> coordinator.startPostcopy("src"));
        assertTrue(e.getMessage().contains("postcopy-ram"), e.getMessage());
        coordinator.cancel("src");
        assertEquals(MigrationStatus.CANCELLED, await("src", i -> i.status().isFinal()).status());
    }

    @Test
    void aDestinationWithoutTheCapabilityRefusesAtTheHelloAndTheSourceRunsOn() throws Exception {
        Vm src = pair("sweep:16M,rate=20000", 64 << 20, 1);
        coordinator.setCapability("src", MigrationCapability.POSTCOPY_RAM, true);
        String uri = "unix:" + dir.resolve("nd.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", i -> i.status().isFinal());
        assertEquals(MigrationStatus.FAILED, out.status());
        assertTrue(out.error().contains("postcopy-ram"), out.error());
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean());
    }

    /** Issue 12's stall policy: a guest precopy can never finish switches to postcopy by itself. */
    @Test
    void aStalledPrecopySwitchesToPostcopyByItself() throws Exception {
        Vm src = pair("sweep", 128 << 20, 2);
        bothPostcopy();
        coordinator.setParameter("src", MigrationParameter.STALL_ACTION, MigrationParameter.STALL_ACTIONS.indexOf("postcopy"));
        coordinator.setParameter("src", MigrationParameter.STALL_PASSES, 3);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1); // precopy cannot converge
        String uri = "unix:" + dir.resolve("st.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", i -> i.status().isFinal());
        MigrationInfo in = await("dst", i -> i.status().isFinal());
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertTrue(out.stall() != null && out.stall().startsWith("not converging: the guest dirties"), out.stall());
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    /** stall-action cancel: the migration gives up and the source runs on, intact. */
    @Test
    void aStalledPrecopyWithStallActionCancelGivesUpAndTheSourceRunsOn() throws Exception {
        Vm src = pair("sweep", 64 << 20, 2);
        coordinator.setParameter("src", MigrationParameter.STALL_ACTION, MigrationParameter.STALL_ACTIONS.indexOf("cancel"));
        coordinator.setParameter("src", MigrationParameter.STALL_PASSES, 3);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        String uri = "unix:" + dir.resolve("sc.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", i -> i.status().isFinal());
        assertEquals(MigrationStatus.CANCELLED, out.status(), String.valueOf(out));
        assertTrue(out.error().contains("not converging") && out.error().contains("stall-action cancel"), out.error());
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
    }

    @Test
    void stallActionPostcopyWithoutTheCapabilityIsRefusedAtMigrate() {
        pair("sweep:16M,rate=20000", 64 << 20, 1);
        coordinator.setParameter("src", MigrationParameter.STALL_ACTION, MigrationParameter.STALL_ACTIONS.indexOf("postcopy"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "unix:" + dir.resolve("x.sock")));
        assertTrue(e.getMessage().contains("postcopy-ram"), e.getMessage());
    }

    /**
     * Postcopy recovery: the link is cut five times while pages are pushed; each time both sides wait
     * in postcopy-paused, keep everything, and go on over a new channel; only the pages the destination
     * still misses are sent again, so none arrives twice; the oracle is clean at the end.
     */
    @Test
    void fiveCutsDuringPostcopyAreEachRecoveredAndNoPageArrivesTwice() throws Exception {
        Vm src = pair("sweep", 128 << 20, 2);
        bothPostcopy();
        String uri = "cut:" + dir.resolve("c0.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        coordinator.startPostcopy("src"); // before the first pass: every page is still to come
        for (int cut = 1; cut <= 5; cut++) {
            assertEquals(MigrationStatus.POSTCOPY_ACTIVE, await("dst",
                    i -> i.status() == MigrationStatus.POSTCOPY_ACTIVE || i.status().isFinal()).status());
            cuttable.cutAfter((long) cut << 20 + 1); // a different point each time: 2, 4, ... 10 MiB on
            MigrationInfo srcPaused = await("src", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
            MigrationInfo dstPaused = await("dst", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
            assertEquals(MigrationStatus.POSTCOPY_PAUSED, srcPaused.status(), "cut " + cut + ": " + srcPaused);
            assertEquals(MigrationStatus.POSTCOPY_PAUSED, dstPaused.status(), "cut " + cut + ": " + dstPaused);
            assertTrue(srcPaused.error().contains("migrate -r"), srcPaused.error());
            assertTrue(dstPaused.error().contains("migrate_recover") && dstPaused.error().contains("lost"),
                    dstPaused.error());
            assertEquals(RunState.FINISH_MIGRATE, src.state(), "the source must not run while paused");
            String again = "cut:" + dir.resolve("c" + cut + ".sock");
            coordinator.recoverPostcopy("dst", again);
            resume(again);
        }
        MigrationInfo out = await("src", i -> i.status().isFinal());
        MigrationInfo in = await("dst", i -> i.status().isFinal());
        assertEquals(5, cuttable.cuts());
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertEquals(0, in.postcopy().dropped(), "pages arrived twice: " + in.postcopy());
        // transferred counts every channel's bytes, not the last one's (the cuts came 2, 4, ... 10 MiB into
        // theirs): each page sent, in postcopy, but for the batch each cut broke (at most 1 MiB each)
        MigrationInfo.RamStats r = out.ram();
        assertTrue(r.postcopyBytes() >= r.normal() * 4096 - (5L << 21), r.toString());
        assertEquals(r.transferred(), r.precopyBytes() + r.postcopyBytes(), r.toString());
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    /**
     * QEMU's migrate-pause, first on the source, then on the destination: each time both sides go to
     * postcopy-paused saying why, the source's guest does not run, and migrate_recover plus migrate -r
     * go on; the postcopy completes with the oracle clean. Outside postcopy it is refused with QEMU's
     * words, and nothing changes.
     */
    @Test
    void migratePauseOnEitherSidePausesBothAndRecoveryCompletesClean() throws Exception {
        Vm src = pair("sweep", 64 << 20, 2);
        bothPostcopy();
        // the pushed pages at 32 MiB/s: postcopy lasts about two seconds, time enough to pause it twice
        coordinator.setParameter("src", MigrationParameter.MAX_POSTCOPY_BANDWIDTH, 32L << 20);
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> coordinator.pausePostcopy("src"));
        assertTrue(refused.getMessage().startsWith("migrate-pause is currently only supported during postcopy-active"
                + " or postcopy-recover state"), refused.getMessage());
        String uri = "unix:" + dir.resolve("p0.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        coordinator.startPostcopy("src");
        String[] side = {"src", "dst"};
        for (int round = 0; round < 2; round++) {
            awaitBoth(MigrationStatus.POSTCOPY_ACTIVE);
            coordinator.pausePostcopy(side[round]);
            MigrationInfo srcPaused = await("src", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
            MigrationInfo dstPaused = await("dst", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
            assertEquals(MigrationStatus.POSTCOPY_PAUSED, srcPaused.status(), side[round] + ": " + srcPaused);
            assertEquals(MigrationStatus.POSTCOPY_PAUSED, dstPaused.status(), side[round] + ": " + dstPaused);
            MigrationInfo paused = side[round].equals("src") ? srcPaused : dstPaused;
            assertTrue(paused.error().contains("paused") && paused.error().contains("migrate-pause"), paused.error());
            assertEquals(RunState.FINISH_MIGRATE, src.state(), "the source must not run while paused");
            assertThrows(IllegalStateException.class, () -> coordinator.pausePostcopy("dst"), "already paused");
            String again = "unix:" + dir.resolve("p" + (round + 1) + ".sock");
            coordinator.recoverPostcopy("dst", again);
            resume(again);
        }
        MigrationInfo out = await("src", i -> i.status().isFinal());
        MigrationInfo in = await("dst", i -> i.status().isFinal());
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertEquals(0, in.postcopy().dropped(), "pages arrived twice: " + in.postcopy());
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    /**
     * A migrate-pause that comes while the recovery is still connecting (postcopy-recover, the new
     * channel not set yet) closes no channel that matters; the recovery must see it once connected and
     * pause again, not carry on as if it never came.
     */
    @Test
    void migratePauseWhileTheRecoveryConnectsIsNotLost() throws Exception {
        Vm src = pair("sweep", 64 << 20, 2);
        bothPostcopy();
        coordinator.setParameter("src", MigrationParameter.MAX_POSTCOPY_BANDWIDTH, 32L << 20);
        java.util.concurrent.CountDownLatch connecting = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch connect = new java.util.concurrent.CountDownLatch(1);
        coordinator.addTransport(new ForwardingTransport() {
            @Override
            public io.godwit.api.transport.MigrationChannel connectOutgoing(String address) throws java.io.IOException {
                connecting.countDown();
                try {
                    connect.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.connectOutgoing(address);
            }
        }, Map.of(Transport.SCHEME, "gate"));
        String uri = "unix:" + dir.resolve("g0.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        coordinator.startPostcopy("src");
        awaitBoth(MigrationStatus.POSTCOPY_ACTIVE);
        coordinator.pausePostcopy("src");
        awaitBoth(MigrationStatus.POSTCOPY_PAUSED);
        coordinator.recoverPostcopy("dst", "unix:" + dir.resolve("g1.sock"));
        resume("gate:" + dir.resolve("g1.sock"));
        assertTrue(connecting.await(30, java.util.concurrent.TimeUnit.SECONDS), "the recovery never connected");
        assertEquals(MigrationStatus.POSTCOPY_RECOVER, coordinator.info("src").status());
        coordinator.pausePostcopy("src");
        connect.countDown();
        MigrationInfo paused = await("src", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
        assertEquals(MigrationStatus.POSTCOPY_PAUSED, paused.status(), "the pause was lost: " + paused);
        assertTrue(paused.error().contains("migrate-pause"), paused.error());
        assertEquals(RunState.FINISH_MIGRATE, src.state(), "the source must not run while paused");
        // and it recovers from there, clean
        await("dst", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
        String again = "unix:" + dir.resolve("g2.sock");
        coordinator.recoverPostcopy("dst", again);
        resume(again);
        assertEquals(MigrationStatus.COMPLETED, await("src", i -> i.status().isFinal()).status());
        assertEquals(MigrationStatus.COMPLETED, await("dst", i -> i.status().isFinal()).status());
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    private void awaitBoth(MigrationStatus status) throws InterruptedException {
        for (String vm : new String[] {"src", "dst"}) {
            assertEquals(status, await(vm, i -> i.status() == status || i.status().isFinal()).status(), vm);
        }
    }

    /** migrate -r as a user types it: the source's thread may not wait for it yet for a moment. */
    private void resume(String uri) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try {
                coordinator.resumePostcopy("src", uri);
                return;
            } catch (IllegalStateException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(10);
            }
        }
    }

    @Test
    void aRecoveryToNowhereLeavesBothSidesPausedAndAbleToTryAgain() throws Exception {
        pair("sweep", 64 << 20, 2);
        bothPostcopy();
        String uri = "cut:" + dir.resolve("n0.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        coordinator.startPostcopy("src");
        await("dst", i -> i.status() == MigrationStatus.POSTCOPY_ACTIVE || i.status().isFinal());
        cuttable.cutAfter(1 << 20);
        assertEquals(MigrationStatus.POSTCOPY_PAUSED, await("src",
                i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal()).status());
        assertEquals(MigrationStatus.POSTCOPY_PAUSED, await("dst",
                i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal()).status());
        resume("cut:" + dir.resolve("nowhere.sock")); // nobody listens there
        MigrationInfo failed = await("src", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED && i.error() != null
                && i.error().contains("recovery failed"));
        assertTrue(failed.error().contains("recovery failed"), String.valueOf(failed));
        assertEquals(MigrationStatus.POSTCOPY_PAUSED, coordinator.info("dst").status());
        String again = "cut:" + dir.resolve("n1.sock");
        coordinator.recoverPostcopy("dst", again);
        resume(again);
        assertEquals(MigrationStatus.COMPLETED, await("src", i -> i.status().isFinal()).status());
        assertEquals(MigrationStatus.COMPLETED, await("dst", i -> i.status().isFinal()).status());
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    /** Destroying both VMs of a paused postcopy ends both migrations: no thread waits forever. */
    @Test
    void destroyingThePausedVmsEndsTheirMigrations() throws Exception {
        pair("sweep", 64 << 20, 2);
        bothPostcopy();
        String uri = "cut:" + dir.resolve("d0.sock");
        coordinator.incoming("dst", uri);
        coordinator.migrate("src", uri);
        coordinator.startPostcopy("src");
        await("dst", i -> i.status() == MigrationStatus.POSTCOPY_ACTIVE || i.status().isFinal());
        cuttable.cutAfter(1 << 20);
        await("src", i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal());
        assertEquals(MigrationStatus.POSTCOPY_PAUSED, await("dst",
                i -> i.status() == MigrationStatus.POSTCOPY_PAUSED || i.status().isFinal()).status());
        coordinator.recoverPostcopy("dst", "cut:" + dir.resolve("d1.sock")); // listening when destroyed
        long t0 = System.nanoTime();
        vms.destroy("dst");
        vms.destroy("src");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long deadline = System.currentTimeMillis() + 10_000;
        while (migrationThreads() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, migrationThreads(), "a migration thread outlived its VM");
        assertTrue(ms < 15_000, "destroy took " + ms + " ms");
    }

    private static long migrationThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("mig-")).count();
    }
}
