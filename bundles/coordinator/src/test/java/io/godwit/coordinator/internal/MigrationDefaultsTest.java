package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The host's migration defaults from the configuration {@code io.godwit.migration}
 * ({@code etc/io.godwit.migration.cfg}): what VMs use unless set, a change applying to the next
 * migration and not to the one under way, and a bad line kept out with a one-line reason.
 */
class MigrationDefaultsTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    MigrationDefaultsTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms, Map.of("downtime-limit", "450", "service.pid", MigrationDefaults.PID));
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-defaults");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void parsesQemuNamesSizesAndStallActionNames() {
        List<String> problems = new ArrayList<>();
        MigrationDefaults d = MigrationDefaults.from(Map.of("verify-ram", "on", "return-path", "false",
                "max-bandwidth", "64M", "stall-action", "postcopy", "felix.fileinstall.filename", "file:/x.cfg"), problems);
        assertEquals(List.of(), problems);
        assertTrue(d.capability(MigrationCapability.VERIFY_RAM));
        assertFalse(d.capability(MigrationCapability.RETURN_PATH));
        assertEquals(64L << 20, d.parameter(MigrationParameter.MAX_BANDWIDTH));
        assertEquals(2, d.parameter(MigrationParameter.STALL_ACTION));
        assertEquals(300, d.parameter(MigrationParameter.DOWNTIME_LIMIT), "built in where the file says nothing");
    }

    @Test
    void aBadLineKeepsTheBuiltInValueAndSaysWhyInOneLine() {
        List<String> problems = new ArrayList<>();
        MigrationDefaults d = MigrationDefaults.from(Map.of("downtime-limit", "-5", "verify-ram", "maybe",
                "max-bandwith", "1G", "auto-converge", "on"), problems);
        assertEquals(3, problems.size(), problems.toString());
        problems.forEach(p -> assertFalse(p.contains("\n"), p));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("downtime-limit = -5: downtime-limit must be between")),
                problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("max-bandwith = 1G: unknown setting")), problems.toString());
        assertEquals(300, d.parameter(MigrationParameter.DOWNTIME_LIMIT));
        assertFalse(d.capability(MigrationCapability.VERIFY_RAM));
        assertTrue(d.capability(MigrationCapability.AUTO_CONVERGE), "the good line is taken");
    }

    @Test
    void vmsUseTheDefaultsUnlessSetAndSeeAChangeAtOnce() {
        vms.create(VmSpec.builder("a").memory(16 << 20).build());
        assertEquals(450, coordinator.parameter("a", MigrationParameter.DOWNTIME_LIMIT));
        coordinator.setParameter("a", MigrationParameter.MAX_BANDWIDTH, 1 << 20);
        coordinator.configure(Map.of("downtime-limit", "900", "max-bandwidth", "5M", "verify-ram", "on"));
        assertEquals(900, coordinator.parameter("a", MigrationParameter.DOWNTIME_LIMIT), "no restart, no new VM");
        assertEquals(1 << 20, coordinator.parameter("a", MigrationParameter.MAX_BANDWIDTH), "what the user set wins");
        assertTrue(coordinator.capability("a", MigrationCapability.VERIFY_RAM));
        coordinator.configure(Map.of());
        assertEquals(300, coordinator.parameter("a", MigrationParameter.DOWNTIME_LIMIT), "file deleted: built in");
    }

    /**
     * The defaults are pinned when a migration starts: a file edited while it runs changes the next
     * migration, not this one (its capabilities must not change under it). Then the next migration,
     * started after the edit, uses the new defaults; both destinations pass the oracle.
     */
    @Test
    void aChangeAppliesToTheNextMigrationNotToTheRunningOne() throws Exception {
        vms.create(VmSpec.builder("src").memory(64 << 20).workload("sweep:rate=5000").build());
        vms.create(VmSpec.builder("d1").memory(64 << 20).workload("sweep:rate=5000").incoming("defer").build());
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 8 << 20); // 8 s for the first pass
        coordinator.incoming("d1", "unix:" + dir.resolve("1.sock"));
        coordinator.migrate("src", "unix:" + dir.resolve("1.sock"));
        coordinator.configure(Map.of("downtime-limit", "1", "verify-ram", "on"));
        assertEquals(450, coordinator.parameter("src", MigrationParameter.DOWNTIME_LIMIT), "pinned while it runs");
        assertFalse(coordinator.capability("src", MigrationCapability.VERIFY_RAM), "pinned while it runs");
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        MigrationInfo first = await("src");
        assertEquals(MigrationStatus.COMPLETED, first.status(), first.toString());
        assertEquals(-1, first.verifyRamMs(), "verify-ram was off when it started: " + first);
        assertClean("d1");

        assertEquals(1, coordinator.parameter("d1", MigrationParameter.DOWNTIME_LIMIT), "idle again: the new defaults");
        coordinator.configure(Map.of("verify-ram", "on"));
        vms.create(VmSpec.builder("d2").memory(64 << 20).workload("sweep:rate=5000").incoming("defer").build());
        coordinator.incoming("d2", "unix:" + dir.resolve("2.sock"));
        coordinator.migrate("d1", "unix:" + dir.resolve("2.sock"));
        MigrationInfo second = await("d1");
        assertEquals(MigrationStatus.COMPLETED, second.status(), second.toString());
        assertTrue(second.verifyRamMs() >= 0, "verify-ram from the new defaults: " + second);
        assertClean("d2");
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    private void assertClean(String name) throws InterruptedException {
        var vm = vms.get(name).orElseThrow();
        long deadline = System.currentTimeMillis() + 10_000;
        while (vm.state() != RunState.RUNNING && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        vm.stop(RunState.PAUSED);
        var verdict = vm.check();
        assertTrue(verdict.clean(), verdict.toString());
    }
}
