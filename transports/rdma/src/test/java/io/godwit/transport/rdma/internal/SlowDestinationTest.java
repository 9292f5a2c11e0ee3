package io.godwit.transport.rdma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * rdma migrations of a guest that starts writing once the first pass sent its pages as zero indices,
 * with {@code verify-ram} on, to a destination slowed per read: each read waits 25 ms, so the first
 * pass's frames arrive together and the destination acknowledges with a zero-page batch read but not
 * applied. A source that took that for the fence would write those pages remotely and the zero fill
 * would then wipe them: verify-ram reports it, and so does the sweep oracle. One run in the suite;
 * the campaign, outside it:
 *
 * <pre>mvn -o -pl transports/rdma -am verify -DskipITs -Dtest=SlowDestinationTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dgodwit.rdma.slow.runs=20 [-Dgodwit.rdma.slow.read-us=25000]</pre>
 */
@Timeout(600)
class SlowDestinationTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    @TempDir
    Path dir;

    SlowDestinationTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void aZeroPageIsAppliedBeforeItsRemoteWriteLands() throws Exception {
        assertEquals(List.of(), campaign(1));
    }

    @Test
    @EnabledIfSystemProperty(named = "godwit.rdma.slow.runs", matches = "[1-9][0-9]*")
    void campaign() throws Exception {
        assertEquals(List.of(), campaign(Integer.getInteger("godwit.rdma.slow.runs")));
    }

    /** Runs migrations; the runs that did not complete with a clean oracle. */
    private List<String> campaign(int runs) throws Exception {
        CountingTransport rdma = new CountingTransport(TestRdma.transport(dir.resolve("keys")));
        rdma.destinationReadDelayNanos = Long.getLong("godwit.rdma.slow.read-us", 25_000) * 1000;
        coordinator.addTransport(rdma, Map.of(Transport.SCHEME, "rdma"));
        List<String> bad = new ArrayList<>();
        int mismatches = 0;
        for (int run = 0; run < runs; run++) {
            String outcome = migrate(run);
            System.out.printf("run %d: %s%n", run + 1, outcome);
            if (!outcome.equals("completed, oracle clean")) {
                bad.add("run " + (run + 1) + ": " + outcome);
                mismatches += outcome.contains("verify-ram") || outcome.contains("oracle:") ? 1 : 0;
            }
        }
        System.out.printf("rdma, destination slowed per read (%d us), verify-ram on: %d runs, %d mismatches,"
                + " %d other failures%n", rdma.destinationReadDelayNanos / 1000, runs, mismatches,
                bad.size() - mismatches);
        return bad;
    }

    /** One migration between fresh VMs; what happened, in a few words. */
    private String migrate(int run) throws Exception {
        String src = "src" + run;
        String dst = "dst" + run;
        // 4 s per round: no page is written twice before the switchover. 64 MiB, all zero while the
        // source is paused: the first pass is one batch of zero indices, applied page by page.
        String sweep = "sweep:64M,rate=1000";
        Vm source = vms.create(VmSpec.builder(src).memory(64 << 20).vcpus(4).workload(sweep).paused(true).build());
        Vm destination = vms.create(VmSpec.builder(dst).memory(64 << 20).vcpus(4).workload(sweep)
                .incoming("defer").memPath(dir.resolve(dst + ".ram")).build());
        try {
            coordinator.incoming(dst, "rdma:127.0.0.1:0");
            coordinator.setCapability(src, MigrationCapability.VERIFY_RAM, true);
            coordinator.setParameter(src, MigrationParameter.DOWNTIME_LIMIT, 1); // it iterates
            coordinator.migrate(src, coordinator.info(dst).listenUri());
            // Once the first pass went out, the guest runs: the pages it writes were sent as zero
            // indices, so their remote writes must wait until the destination applied those.
            awaitSyncs(src, 2);
            source.cont();
            awaitSyncs(src, 6);
            coordinator.setParameter(src, MigrationParameter.DOWNTIME_LIMIT, 300);
            MigrationInfo out = await(src);
            MigrationInfo in = await(dst);
            if (!out.status().isFinal() || !in.status().isFinal()) {
                return "did not end: source " + out.status() + ", destination " + in.status();
            }
            if (in.error() != null) {
                return "destination " + in.status() + ": " + in.error();
            }
            if (out.error() != null) {
                return "source " + out.status() + ": " + out.error();
            }
            destination.stop(RunState.PAUSED);
            var verdict = destination.check();
            return verdict.clean() ? "completed, oracle clean" : "oracle: " + verdict;
        } finally {
            vms.destroy(src);
            vms.destroy(dst);
        }
    }

    private void awaitSyncs(String vm, long syncs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (coordinator.info(vm).ram().dirtySyncCount() < syncs && !coordinator.info(vm).status().isFinal()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
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
