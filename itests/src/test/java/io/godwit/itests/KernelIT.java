package io.godwit.itests;

import static io.godwit.itests.Guests.awaitEachVcpuPast;
import static io.godwit.itests.Guests.firstByte;
import static io.godwit.itests.Guests.pageLabel;
import static io.godwit.itests.Guests.poke;
import static io.godwit.itests.Guests.progress;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** The kernel and the synthetic CPU as SCR wires them in Felix, checked by the sweep oracle. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KernelIT extends GodwitTestSupport {

    private static final long MIB = 1 << 20;

    @Inject
    private VmManager vms;

    @Configuration
    public Option[] config() {
        return baseOptions();
    }

    @After
    public void destroyVms() throws InterruptedException {
        Guests.destroyAll(vms);
    }

    private Vm sweep(String name, long bytes, int vcpus, String workload) {
        return vms.create(VmSpec.builder(name).memory(bytes).vcpus(vcpus).workload(workload).build());
    }

    @Test
    public void sweepGuestRunsSeveralPassesAndPassesItsOracle() throws Exception {
        assertTrue(vms.cpuBackends().contains("synthetic"));
        assertTrue(vms.dirtyTrackers().contains("bitmap"));
        Vm vm = sweep("big", 256 * MIB, 2, "sweep");
        assertEquals(RunState.RUNNING, vm.state());
        Thread.sleep(1000);
        long pagesPerVcpu = 65536 / 2;
        awaitEachVcpuPast(vm, pagesPerVcpu, 60_000); // more than one pass over its range
        vm.stop(RunState.PAUSED);
        assertEquals(RunState.PAUSED, vm.state());
        long stopped = progress(vm);
        for (VcpuInfo cpu : vm.cpus()) {
            assertTrue("vCPU " + cpu.index() + " did more than one pass: " + cpu,
                    cpu.progress() > pagesPerVcpu && cpu.progressUnit().equals("writes"));
        }

        OracleVerdict v = vm.check();
        assertTrue(v.toString(), v.clean());
        assertEquals(65536, v.pagesChecked());
        assertEquals(0, v.badPages());
        assertTrue(v.summary(), v.summary().contains("2 ranges"));
        assertEquals("a stopped VM does not write", stopped, progress(vm));

        vm.cont();
        Guests.await(() -> progress(vm) > stopped, 30_000, "progress after cont");
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().toString(), vm.check().clean());
    }

    @Test
    public void oracleReportsExactlyTheCorruptedPage() throws Exception {
        Vm vm = sweep("bad", 64 * MIB, 2, "sweep");
        awaitEachVcpuPast(vm, 2 * 8192, 60_000); // two passes, so the first bytes are not all equal
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().toString(), vm.check().clean());

        long stale = 5000;
        byte old = firstByte(vm, stale);
        poke(vm, stale, 0, (byte) (old - 2)); // the page as it was two passes ago: a lost update
        OracleVerdict v = vm.check();
        assertEquals(v.toString(), 1, v.badPages());
        assertEquals(16384, v.pagesChecked());
        assertTrue(v.toString(), v.examples().get(0).startsWith(pageLabel(stale)));
        poke(vm, stale, 0, old);
        assertTrue("restoring the byte makes the page good again", vm.check().clean());

        long garbage = 12000; // in the second vCPU's range
        poke(vm, garbage, 100, (byte) 0x5a);
        v = vm.check();
        assertEquals(v.toString(), 1, v.badPages());
        assertTrue(v.toString(), v.examples().get(0).startsWith(pageLabel(garbage)));
        assertTrue(v.toString(), v.examples().get(0).contains("not zero"));

        poke(vm, stale, 0, (byte) (old - 2));
        v = vm.check();
        assertEquals(v.toString(), 2, v.badPages());
        assertTrue(v.toString(), v.examples().get(0).startsWith(pageLabel(stale)));
        assertTrue(v.toString(), v.examples().get(1).startsWith(pageLabel(garbage)));
    }

    @Test
    public void dirtySyncReportsTheSweepsPagesAndNothingElse() throws Exception {
        Vm vm = sweep("dirty", 64 * MIB, 2, "sweep:16M"); // pages [0, 4096) are written, the rest never
        long pages = vm.memory().pages();
        assertEquals(16384, pages);
        DirtyLogging log = vm.dirtyLogging();
        log.start();
        try {
            assertTrue(log.active());
            DirtyBitmap seen = new DirtyBitmap(pages);
            Guests.await(() -> {
                try {
                    log.sync(seen);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return seen.count() >= 4096;
            }, 10_000, "a sync to report the sweep's 4096 pages");
            assertEquals("only the sweep's range is dirty", 4096, seen.count());
            assertEquals(4096, seen.count(0, 4096));
            assertEquals(-1, seen.nextSetBit(4096));

            vm.stop(RunState.PAUSED);
            log.sync(new DirtyBitmap(pages)); // what the last quantum wrote
            DirtyBitmap after = new DirtyBitmap(pages);
            assertEquals("a stopped guest dirties nothing", 0, log.sync(after));
            assertEquals(0, after.count());
            assertTrue(log.stats().toString(), log.stats().get("sync-count") >= 3);
        } finally {
            log.stop();
        }
        assertTrue(!log.active());
        OracleVerdict v = vm.check();
        assertTrue(v.toString(), v.clean());
        assertEquals(16384, v.pagesChecked());
    }
}
