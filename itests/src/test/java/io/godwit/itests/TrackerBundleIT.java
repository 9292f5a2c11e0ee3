package io.godwit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import java.util.Arrays;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** Dirty trackers are bundles: pml is the default, and stopping it under a migration fails only that. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TrackerBundleIT {

    @Inject
    private BundleContext context;

    @Inject
    private VmManager vms;

    @Inject
    private MigrationService migration;

    @Configuration
    public Option[] config() {
        return GodwitTestSupport.baseOptions();
    }

    @After
    public void cleanUp() throws Exception {
        for (Vm vm : vms.list()) {
            migration.cancel(vm.name());
        }
        Guests.destroyAll(vms);
        pml().start();
    }

    private Bundle pml() {
        return Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName().equals("io.godwit.dirty-pml"))
                .findFirst().orElseThrow(() -> new AssertionError("the dirty-pml bundle is not installed"));
    }

    private MigrationInfo awaitEnd(String vm, long timeoutMillis) throws InterruptedException {
        Guests.await(() -> migration.info(vm).status().isFinal(), timeoutMillis, vm + "'s migration to end");
        return migration.info(vm);
    }

    @Test
    public void stoppingTheTrackerBundleFailsTheMigrationAndTheSourceRunsOn() throws Exception {
        assertEquals("pml", VmSpec.DEFAULT_TRACKER); // the bundle this test stops is the default one
        Vm src = vms.create(VmSpec.builder("src").memory(128L << 20).workload("sweep:32M,rate=50000").build());
        vms.create(VmSpec.builder("dst").memory(128L << 20).workload("sweep:32M,rate=50000").incoming("defer").build());
        assertEquals("pml", src.dirtyLogging().trackerName());
        migration.incoming("dst", "tcp:127.0.0.1:0");
        // Slow and strict, so the migration is still iterating when the bundle goes.
        migration.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 8L << 20);
        migration.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        migration.migrate("src", migration.info("dst").listenUri());
        Guests.await(() -> migration.info("src").ram().dirtySyncCount() >= 2, 60_000, "two dirty syncs");

        pml().stop();

        MigrationInfo out = awaitEnd("src", 60_000);
        assertEquals(out.toString(), MigrationStatus.FAILED, out.status());
        assertTrue(out.error(), out.error().contains("dirty tracker 'pml' was removed"));
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(VmSpec.FALLBACK_TRACKER, src.dirtyLogging().trackerName());
        assertEquals(MigrationStatus.FAILED, awaitEnd("dst", 60_000).status());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        long before = Guests.progress(src);
        Guests.await(() -> Guests.progress(src) > before, 30_000, "the source to run on");

        // The VM migrates again, now with the fallback tracker, and arrives intact.
        migration.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        migration.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
        migration.incoming("dst", "tcp:127.0.0.1:0");
        migration.migrate("src", migration.info("dst").listenUri());
        assertEquals(MigrationStatus.COMPLETED, awaitEnd("src", 60_000).status());
        assertEquals(MigrationStatus.COMPLETED, awaitEnd("dst", 60_000).status());
        Vm dst = vms.get("dst").orElseThrow();
        long arrived = Guests.progress(dst);
        Guests.await(() -> Guests.progress(dst) > arrived, 30_000, "the destination to run");
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        assertTrue(v.toString(), v.clean());
    }
}
