package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Constants;

/** Several services declaring one scheme; transport capabilities that need a migration capability. */
class TransportRegistryTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    @TempDir
    Path dir;

    TransportRegistryTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private static Map<String, Object> props(String scheme, long id, int ranking) {
        return Map.of(Transport.SCHEME, scheme, Constants.SERVICE_ID, id, Constants.SERVICE_RANKING, ranking);
    }

    @Test
    void aDroppedTransportDoesNotDisplaceTheSystemOneAndItsRemovalKeepsTheScheme() {
        TransportRegistry r = new TransportRegistry();
        Transport system = new UnixTestTransport();
        Transport dropped = new UnixTestTransport();
        r.add("tcp", system, props("tcp", 3, 0));
        r.add("tcp", dropped, props("tcp", 40, 0));
        assertSame(system, r.get("tcp"), "same ranking: the service registered first");
        assertTrue(r.remove("tcp", dropped));
        assertSame(system, r.get("tcp"));
        r.add("tcp", dropped, props("tcp", 41, 10));
        assertSame(dropped, r.get("tcp"), "a higher service.ranking wins");
        assertTrue(r.remove("tcp", dropped));
        assertSame(system, r.get("tcp"), "the system transport takes over again");
        assertTrue(r.remove("tcp", system));
        assertEquals(null, r.get("tcp"));
        assertEquals(false, r.remove("tcp", system), "removed once only");
    }

    @Test
    void removingOneOfTwoServicesOfASchemeFailsOnlyTheMigrationsUsingIt() throws Exception {
        Transport first = new UnixTestTransport();
        Transport second = new UnixTestTransport();
        coordinator.addTransport(first, props("unix", 1, 0));
        coordinator.addTransport(second, props("unix", 2, 0));
        vms.create(VmSpec.builder("dst").memory(16 << 20).incoming("defer").build());
        coordinator.incoming("dst", "unix:" + dir.resolve("a.sock"));
        coordinator.removeTransport(second, props("unix", 2, 0));
        assertEquals(List.of("unix"), coordinator.schemes());
        assertEquals(MigrationStatus.SETUP, coordinator.info("dst").status(), "the listener on the first one stays");
        coordinator.removeTransport(first, props("unix", 1, 0));
        assertTrue(await("dst").status().isFinal(), "the listener of the removed transport ends");
        assertEquals(List.of(), coordinator.schemes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> coordinator.incoming("dst", "unix:" + dir.resolve("b.sock")));
        assertTrue(e.getMessage().contains("unknown transport 'unix'"), e.getMessage());
    }

    @Test
    void aTransportWritingRemoteMemoryIsRefusedUpFrontWithoutTheReturnPath() throws Exception {
        Transport unix = new UnixTestTransport();
        Transport remote = new Transport() {
            @Override
            public Set<TransportCapability> capabilities() {
                return Set.of(TransportCapability.BIDIRECTIONAL, TransportCapability.REMOTE_MEMORY_WRITE);
            }

            @Override
            public MigrationChannel connectOutgoing(String address) throws IOException {
                return unix.connectOutgoing(address);
            }

            @Override
            public IncomingListener listenIncoming(String address) throws IOException {
                return unix.listenIncoming(address);
            }
        };
        coordinator.addTransport(remote, props("unix", 1, 0));
        Vm src = vms.create(VmSpec.builder("src").memory(16 << 20).workload("sweep:4M,rate=50000").build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "unix:" + dir.resolve("r.sock")));
        assertTrue(e.getMessage().contains("return-path on"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        assertEquals(MigrationStatus.NONE, coordinator.info("src").status());
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's memory is intact");
    }

    /**
     * {@code migrate} holds the coordinator's lock while it asks the transport about the address (a DNS
     * lookup can take seconds); {@code query-migrate} of a VM that is migrating meanwhile must not wait.
     */
    @Test
    void infoDoesNotWaitForAMigrateThatIsSettingUp() throws Exception {
        Transport unix = new UnixTestTransport();
        java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        Transport slow = new Transport() {
            @Override
            public Set<TransportCapability> capabilities() {
                return unix.capabilities();
            }

            @Override
            public Set<TransportCapability> capabilities(String address) {
                asked.countDown();
                try {
                    answer.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return unix.capabilities();
            }

            @Override
            public MigrationChannel connectOutgoing(String address) throws IOException {
                return unix.connectOutgoing(address);
            }

            @Override
            public IncomingListener listenIncoming(String address) throws IOException {
                return unix.listenIncoming(address);
            }
        };
        coordinator.addTransport(slow, props("unix", 1, 0));
        vms.create(VmSpec.builder("a").memory(16 << 20).workload("sweep:4M,rate=50000").build());
        vms.create(VmSpec.builder("b").memory(16 << 20).workload("sweep:4M,rate=50000").build());
        var migrate = java.util.concurrent.CompletableFuture.runAsync(
                () -> coordinator.migrate("a", "unix:" + dir.resolve("nobody.sock")));
        assertTrue(asked.await(60, java.util.concurrent.TimeUnit.SECONDS), "migrate never asked the transport");
        try {
            // Not a speed check: with the lock taken by info these never return until migrate does.
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
                assertEquals(MigrationStatus.NONE, coordinator.info("b").status());
                assertEquals(MigrationStatus.NONE, coordinator.info("a").status());
            }, "query-migrate waited for a migrate under way");
        } finally {
            answer.countDown();
        }
        migrate.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(await("a").status().isFinal(), "the migration to nobody ends");
        assertEquals(MigrationStatus.FAILED, coordinator.info("a").status());
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }
}
