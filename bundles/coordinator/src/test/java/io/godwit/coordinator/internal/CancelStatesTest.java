package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * migrate_cancel in every state a migration can be in (QEMU's cancel/src/after/*): the status ends
 * as QEMU's would, the source runs on with its memory intact, and no migration thread is left.
 */
class CancelStatesTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;
    private final Vm src;

    CancelStatesTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-cancel");
        src = vms.create(VmSpec.builder("src").memory(32 << 20).workload("sweep:8M").build());
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        long deadline = System.currentTimeMillis() + 5000;
        while (migrationThreads() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, migrationThreads(), "a migration thread outlived its migration");
        vms.deactivate();
    }

    private static long migrationThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("mig-")).count();
    }

    private MigrationInfo awaitFinal() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (!coordinator.info("src").status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        return coordinator.info("src");
    }

    private void assertSourceIntact() throws InterruptedException {
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean());
        src.cont();
    }

    private String destination() {
        vms.create(VmSpec.builder("dst").memory(32 << 20).workload("sweep:8M").incoming("defer").build());
        String sock = dir.resolve("d.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        return "unix:" + sock;
    }

    @Test
    void cancelWithNoMigrationDoesNothing() throws Exception {
        coordinator.cancel("src");
        assertEquals(MigrationStatus.NONE, coordinator.info("src").status());
        assertSourceIntact();
    }

    @Test
    void cancelInSetupEndsCancelled() throws Exception {
        // A destination that accepts and never answers: the source waits in setup for its PONG.
        Path sock = dir.resolve("mute.sock");
        try (ServerSocketChannel mute = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            mute.bind(UnixDomainSocketAddress.of(sock));
            coordinator.migrate("src", "unix:" + sock);
            try (SocketChannel accepted = mute.accept()) {
                Thread.sleep(100);
                assertEquals(MigrationStatus.SETUP, coordinator.info("src").status());
                coordinator.cancel("src");
                assertEquals(MigrationStatus.CANCELLED, awaitFinal().status());
            }
        }
        assertSourceIntact();
    }

    @Test
    void cancelWhileActiveThenAgainWhileCancellingEndsCancelled() throws Exception {
        String uri = destination();
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 1 << 20);
        coordinator.migrate("src", uri);
        long deadline = System.currentTimeMillis() + 10_000;
        while (coordinator.info("src").status() != MigrationStatus.ACTIVE && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        coordinator.cancel("src");
        coordinator.cancel("src"); // in cancelling: nothing more happens
        assertEquals(MigrationStatus.CANCELLED, awaitFinal().status());
        assertSourceIntact();
    }

    @Test
    void cancelInPreSwitchoverEndsCancelled() throws Exception {
        String uri = destination();
        coordinator.setCapability("src", MigrationCapability.PAUSE_BEFORE_SWITCHOVER, true);
        coordinator.migrate("src", uri);
        long deadline = System.currentTimeMillis() + 10_000;
        while (coordinator.info("src").status() != MigrationStatus.PRE_SWITCHOVER
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(RunState.FINISH_MIGRATE, src.state());
        coordinator.cancel("src");
        assertEquals(MigrationStatus.CANCELLED, awaitFinal().status());
        assertSourceIntact();
    }

    @Test
    void cancelAfterCompletedOrFailedChangesNothing() throws Exception {
        coordinator.migrate("src", "unix:" + dir.resolve("nobody.sock"));
        assertEquals(MigrationStatus.FAILED, awaitFinal().status());
        coordinator.cancel("src");
        assertEquals(MigrationStatus.FAILED, coordinator.info("src").status());
        assertSourceIntact();

        coordinator.migrate("src", destination());
        assertEquals(MigrationStatus.COMPLETED, awaitFinal().status());
        coordinator.cancel("src");
        assertEquals(MigrationStatus.COMPLETED, coordinator.info("src").status());
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = vms.get("dst").orElseThrow();
        long deadline = System.currentTimeMillis() + 5000;
        while (dst.state() != RunState.RUNNING && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean());
    }
}
