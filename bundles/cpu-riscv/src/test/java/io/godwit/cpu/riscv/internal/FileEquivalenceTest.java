package io.godwit.cpu.riscv.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.transport.file.internal.FileTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Execution equivalence through files: the {@code mixed} program saved live into a file with
 * mapped-ram and restored on a second host, then saved offline (stopped) as the plain stream and
 * restored on the first, at random points, ends in exactly the registers, console and memory of the
 * same program run without any of that.
 */
class FileEquivalenceTest {

    private static final String PROGRAM = "mixed:words=65536,iters=12000000";
    private static final long RAM = 4 << 20;

    private final Host a = new Host();
    private final Host b = new Host();
    @TempDir
    Path dir;

    @AfterEach
    void close() throws Exception {
        a.close();
        b.close();
    }

    @Test
    void savedAndRestoredTwiceTheProgramEndsAsIfNothingHappened() throws Exception {
        Vm ref = a.machine.create("ref", PROGRAM, RAM, 1);
        Machine.awaitStopped(ref, 300_000);
        assertEquals(RunState.SHUTDOWN, ref.state(), ref.stateDetail());
        MigrationEquivalenceTest.Outcome expected = MigrationEquivalenceTest.outcome(ref);
        long total = ref.cpus().get(0).progress();
        a.machine.vms.destroy("ref");

        long seed = System.nanoTime();
        Random random = new Random(seed);
        Vm vm = a.machine.create("g", PROGRAM, RAM, 1);
        MigrationEquivalenceTest.awaitProgress(vm, (long) (total * (0.1 + 0.2 * random.nextDouble())));
        Path live = dir.resolve("live.img");
        save(a, "file:" + live, true, false);
        assertTrue(Files.size(live) <= RAM + RAM / 100, "the mapped-ram file is " + Files.size(live) + " bytes");
        vm = restore(b, "file:" + live);
        assertEquals(RunState.RUNNING, vm.state());

        MigrationEquivalenceTest.awaitProgress(vm, (long) (total * (0.4 + 0.2 * random.nextDouble())));
        save(b, "file:" + dir.resolve("offline.img") + ",offset=512", false, true);
        vm = restore(a, "file:" + dir.resolve("offline.img") + ",offset=512");
        assertEquals(RunState.PAUSED, vm.state(), "saved stopped, restored stopped");
        long at = vm.cpus().get(0).progress();
        vm.cont();

        assertTrue(at < total, "the guest finished before the last save (seed " + seed + ")");
        Machine.awaitStopped(vm, 300_000);
        assertEquals(RunState.SHUTDOWN, vm.state(), vm.stateDetail());
        assertTrue(vm.check().clean(), vm.check().toString());
        assertEquals(expected, MigrationEquivalenceTest.outcome(vm), "seed " + seed);
    }

    private static void save(Host from, String uri, boolean mappedRam, boolean stopFirst) throws Exception {
        from.coordinator.setCapability("g", MigrationCapability.RETURN_PATH, false);
        from.coordinator.setCapability("g", MigrationCapability.MAPPED_RAM, mappedRam);
        if (stopFirst) {
            from.machine.vms.get("g").orElseThrow().stop(RunState.PAUSED);
        }
        from.coordinator.migrate("g", uri);
        MigrationInfo out = MigrationEquivalenceTest.await(from.coordinator, 60_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        from.machine.vms.destroy("g");
    }

    private static Vm restore(Host to, String uri) throws Exception {
        Vm vm = to.machine.vms.create(VmSpec.builder("g").memory(RAM).cpu("riscv").workload(PROGRAM).incoming("defer")
                .build());
        to.coordinator.incoming("g", uri);
        MigrationInfo in = MigrationEquivalenceTest.await(to.coordinator, 60_000);
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        return vm;
    }

    /** One host: a kernel with the riscv backend and a coordinator with the file transport. */
    private static final class Host implements AutoCloseable {
        final Machine machine = new Machine();
        final Coordinator coordinator = new Coordinator(machine.vms);

        Host() {
            coordinator.addTransport(new FileTransport(), Map.of(Transport.SCHEME, "file"));
        }

        @Override
        public void close() throws Exception {
            coordinator.deactivate();
            machine.close();
        }
    }
}
