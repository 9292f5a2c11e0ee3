package io.godwit.cpu.riscv.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.transport.tcp.internal.TcpTransport;
import io.godwit.transport.unix.internal.UnixTransport;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Execution equivalence: a program live-migrated six times at random points, back and forth between
 * two hosts (two kernels, each with its coordinator) over real tcp and unix sockets, every other hop
 * in postcopy from its first pass (the guest runs on the destination while it faults its pages in),
 * ends in exactly the architectural state, console output and memory of the same program run without
 * migration.
 */
class MigrationEquivalenceTest {

    private static final String PROGRAM = "mixed:words=65536,iters=12000000";
    private static final long RAM = 4 << 20;
    private static final int HOPS = 6;

    private final Host a = new Host();
    private final Host b = new Host();
    @org.junit.jupiter.api.io.TempDir
    Path dir;

    @AfterEach
    void close() throws Exception {
        a.close();
        b.close();
    }

    /** What must match: the register dump (pc, x1-x31, CSRs, instret), the console and all of RAM. */
    record Outcome(String registers, String console, String ramSha256) {}

    @Test
    void sixMigrationsLeaveNoTrace() throws Exception {
        Vm ref = a.machine.create("ref", PROGRAM, RAM, 1);
        Machine.awaitStopped(ref, 300_000);
        assertEquals(RunState.SHUTDOWN, ref.state(), ref.stateDetail());
        Outcome expected = outcome(ref);
        long total = ref.cpus().get(0).progress();
        a.machine.vms.destroy("ref");

        long seed = System.nanoTime();
        Random random = new Random(seed);
        Host[] hosts = {a, b};
        Vm vm = a.machine.create("g", PROGRAM, RAM, 1);
        List<String> hops = new ArrayList<>();
        for (int hop = 0; hop < HOPS; hop++) {
            // A random point in the hop's slice of the first two thirds of the run.
            long point = (long) (total * (hop + random.nextDouble()) / (HOPS * 1.5));
            awaitProgress(vm, point);
            Host from = hosts[hop % 2];
            Host to = hosts[(hop + 1) % 2];
            String uri = hop % 2 == 0 ? "tcp:127.0.0.1:0" : "unix:" + dir.resolve("hop" + hop + ".sock");
            boolean postcopy = hop % 2 == 1;
            vm = migrate(from, to, uri, postcopy);
            hops.add(uri + (postcopy ? " postcopy" : "") + " at " + vm.cpus().get(0).progress());
        }
        assertTrue(vm.cpus().get(0).progress() < total, "the guest finished before the last hop: " + hops);
        Machine.awaitStopped(vm, 300_000);
        assertEquals(RunState.SHUTDOWN, vm.state(), vm.stateDetail() + " after " + hops);
        assertTrue(vm.check().clean(), vm.check().toString());
        assertEquals(expected, outcome(vm), "seed " + seed + ", hops " + hops);
    }

    static void awaitProgress(Vm vm, long point) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 300_000;
        while (vm.cpus().get(0).progress() < point && vm.state() == RunState.RUNNING
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(2);
        }
    }

    /**
     * One live migration of VM g: an incoming VM on {@code to}, then the source destroyed. In postcopy,
     * the switch is asked for before the first batch, so almost every page is faulted in or pushed
     * while the guest runs on the destination.
     */
    private Vm migrate(Host from, Host to, String uri, boolean postcopy) throws Exception {
        to.machine.vms.create(io.godwit.api.vm.VmSpec.builder("g").memory(RAM).cpu("riscv").workload(PROGRAM)
                .incoming("defer").build());
        from.coordinator.setCapability("g", MigrationCapability.POSTCOPY_RAM, postcopy);
        // The background push at 2 MiB/s: the guest runs ahead of it and faults in what it touches.
        from.coordinator.setParameter("g", io.godwit.api.migration.MigrationParameter.MAX_POSTCOPY_BANDWIDTH,
                postcopy ? 2 << 20 : 0);
        to.coordinator.setCapability("g", MigrationCapability.POSTCOPY_RAM, postcopy);
        to.coordinator.incoming("g", uri);
        String listen = to.coordinator.info("g").listenUri();
        from.coordinator.migrate("g", listen != null ? listen : uri);
        if (postcopy) {
            from.coordinator.startPostcopy("g");
        }
        MigrationInfo out = await(from.coordinator, 60_000);
        MigrationInfo in = await(to.coordinator, 10_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        if (postcopy) {
            assertTrue(in.postcopy().requests() > 0, "the guest never faulted in postcopy: " + in.postcopy());
        }
        from.machine.vms.destroy("g");
        Vm vm = to.machine.vms.get("g").orElseThrow();
        assertTrue(vm.state() == RunState.RUNNING || vm.state() == RunState.SHUTDOWN, vm.state().toString());
        return vm;
    }

    static MigrationInfo await(Coordinator c, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        MigrationInfo info;
        while (!(info = c.info("g")).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        return info;
    }

    static Outcome outcome(Vm vm) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(vm.memory().blocks().get(0).raw().asByteBuffer());
        return new Outcome(vm.describeVcpu(0), vm.console(), HexFormat.of().formatHex(sha.digest()));
    }

    /** One host: a kernel with the riscv backend and a coordinator with the tcp and unix transports. */
    private static final class Host implements AutoCloseable {
        final Machine machine = new Machine();
        final Coordinator coordinator = new Coordinator(machine.vms);

        Host() {
            coordinator.addTransport(new TcpTransport(defaults(TcpTransport.Config.class)),
                    Map.of(Transport.SCHEME, "tcp"));
            coordinator.addTransport(new UnixTransport(defaults(UnixTransport.Config.class)),
                    Map.of(Transport.SCHEME, "unix"));
        }

        @Override
        public void close() throws Exception {
            coordinator.deactivate();
            machine.close();
        }
    }

    /** A component configuration with every attribute at its default, as DS makes it with no config. */
    @SuppressWarnings("unchecked")
    static <A> A defaults(Class<A> type) {
        return (A) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                (proxy, method, args) -> method.getDefaultValue());
    }
}
