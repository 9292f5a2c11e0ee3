package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
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
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * vm_destroy ends the VM's migration (QEMU ends it before it frees the VM): a destination waiting for
 * its source frees its address and its thread, a source or destination destroyed mid-stream ends its
 * threads before its RAM goes, and nothing of a destroyed VM that migrated stays reachable.
 */
@Timeout(120)
class VmDestroyTest {

    private static final String GUEST = "sweep:8M";
    private static final long MEMORY = 32 << 20;

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    VmDestroyTest() throws IOException {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-destroy");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private static List<Thread> threads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).toList();
    }

    private static boolean within(long millis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    private static boolean refuses(Path socket) {
        try (SocketChannel ignored = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private Vm destination(String uri) {
        Vm dst = vms.create(VmSpec.builder("dst").memory(MEMORY).workload(GUEST).incoming("defer").build());
        coordinator.incoming("dst", uri);
        return dst;
    }

    private MigrationInfo awaitFinal(String vm) throws InterruptedException {
        within(30_000, () -> coordinator.info(vm).status().isFinal());
        return coordinator.info(vm);
    }

    /** Migrates a running source to {@code dst} and checks the destination's memory with the oracle. */
    private void migrateAndCheck(Vm dst, String uri) throws InterruptedException {
        vms.create(VmSpec.builder("src").memory(MEMORY).workload(GUEST).build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, true);
        coordinator.migrate("src", uri);
        MigrationInfo out = awaitFinal("src");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertTrue(within(5_000, () -> dst.state() == RunState.RUNNING), "destination: " + dst.state());
        dst.stop(RunState.PAUSED);
        OracleVerdict verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    @Test
    void destroyingAWaitingDestinationEndsItsThreadAndFreesItsAddress() throws Exception {
        Path socket = dir.resolve("in.sock");
        String uri = "unix:" + socket;
        destination(uri);
        assertEquals(1, threads("mig-dst-in").size(), "the destination waits on its thread");
        assertTrue(Files.exists(socket), "the destination listens"); // (a probe connection would be its source)

        vms.destroy("dst");
        assertTrue(within(1_000, () -> threads("mig-dst-in").isEmpty()), "mig-dst-in outlived its VM");
        assertTrue(within(1_000, () -> refuses(socket)), "the destroyed destination still takes connections");

        Vm again = destination(uri); // the same name on the same address
        assertEquals(uri, coordinator.info("dst").listenUri());
        migrateAndCheck(again, uri);
    }

    @Test
    void destroyingASourceMidStreamEndsItsThreadsBeforeItsRamGoes() throws Exception {
        String uri = "unix:" + dir.resolve("mid.sock");
        Vm dst = destination(uri);
        Vm src = vms.create(VmSpec.builder("src").memory(MEMORY).workload(GUEST).build());
        assertTrue(within(30_000, () -> src.cpus().stream().mapToLong(c -> c.progress()).sum() >= 2048),
                "the guest wrote its range once (else most pages are zero and cost no bandwidth)");
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, true);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 1 << 20); // 8 MiB take 8 s
        coordinator.migrate("src", uri);
        assertTrue(within(30_000, () -> coordinator.info("src").ram().transferred() >= (256 << 10)),
                "the stream started");

        vms.destroy("src"); // returns once the migration ended: nothing reads its RAM after
        assertTrue(threads("mig-src-out").isEmpty() && threads("mig-src-rp").isEmpty(), "a source thread outlived its VM");
        assertThrows(IllegalArgumentException.class, () -> coordinator.info("src"));
        MigrationInfo in = awaitFinal("dst");
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        assertEquals(RunState.INMIGRATE, dst.state(), "a partial stream never runs");
    }

    @Test
    void destroyingADestinationMidStreamLeavesTheSourceRunningIntact() throws Exception {
        String uri = "unix:" + dir.resolve("dst-mid.sock");
        destination(uri);
        Vm src = vms.create(VmSpec.builder("src").memory(MEMORY).workload(GUEST).build());
        assertTrue(within(30_000, () -> src.cpus().stream().mapToLong(c -> c.progress()).sum() >= 2048),
                "the guest wrote its range once");
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, true);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 1 << 20);
        coordinator.migrate("src", uri);
        assertTrue(within(30_000, () -> coordinator.info("dst").ram().transferred() >= (256 << 10)),
                "the destination is loading");

        vms.destroy("dst"); // returns once its migration ended: nothing writes its RAM after
        assertTrue(threads("mig-dst-in").isEmpty(), "mig-dst-in outlived its VM");
        MigrationInfo out = awaitFinal("src");
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's guest is intact");
    }

    @Test
    void nothingOfADestroyedVmThatMigratedStaysReachable() throws Exception {
        List<WeakReference<Vm>> gone = migrateThenDestroyBoth();
        // Wait on the condition: each GC may clear only some references.
        assertTrue(within(20_000, () -> {
            System.gc();
            return gone.stream().allMatch(r -> r.get() == null);
        }), "a destroyed VM (with its bitmaps and buffers) is still reachable");
    }

    /** In a frame of its own, so that no local of the test keeps a VM reachable. */
    private List<WeakReference<Vm>> migrateThenDestroyBoth() throws InterruptedException {
        String uri = "unix:" + dir.resolve("leak.sock");
        Vm dst = destination(uri);
        migrateAndCheck(dst, uri);
        List<WeakReference<Vm>> refs = List.of(new WeakReference<>(vms.get("src").orElseThrow()),
                new WeakReference<>(dst));
        vms.destroy("src");
        vms.destroy("dst");
        return refs;
    }
}
