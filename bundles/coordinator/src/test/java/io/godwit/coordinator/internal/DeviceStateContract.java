package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.device.IterativeState;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.wire.StateEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The device test kit: the state rules every device must keep (docs/writing-a-device.md), through real
 * migrations between two VMs in one JVM over a unix socket. Extend it with the device's factory and
 * options. The source's device is wrapped to play an older or a newer, or a broken, writer: its
 * subsections dropped (an older source), an unknown subsection added or its version raised (a newer
 * one), its last field cut (a broken one), or one field given a hostile value (a hostile one). Each
 * refusal must name the device, leave the source running and the destination in {@code inmigrate};
 * a hostile value is either taken or refused by {@code loadState} with a {@link StateFormatException}
 * (QEMU's post_load checks), never another exception.
 */
public abstract class DeviceStateContract {

    /** The device's factory, as its bundle registers it. */
    protected abstract DeviceFactory factory();

    /** Its {@code godwit.device} type name. */
    protected abstract String type();

    /** Device options (after the type) for both VMs; {@code dir} is a fresh temporary directory. */
    protected abstract String options(Path dir);

    /**
     * Options under which the device writes an optional subsection once it ran a while, or null
     * when it has none.
     */
    protected abstract String subsectionOptions(Path dir);

    /** Waits until the device did some work on the source (traffic, I/O, pets). Long timeouts only. */
    protected abstract void awaitActive(Device device) throws InterruptedException;

    /** Guest RAM of each VM; the device takes the top by default. */
    protected long memory() {
        return 64L << 20;
    }

    /** The guest workload, rate limited, below the device's memory. */
    protected String workload() {
        return "sweep:8M,rate=5000";
    }

    private enum Mode { PLAIN, DROP_SUBSECTIONS, ADD_SUBSECTION, NEWER_VERSION, TRUNCATE, HOSTILE }

    /**
     * Hostile-value runs: one field each, the fields in turn, values from {@link Hostile}: every
     * field gets each of its type's six values (at most 120 runs).
     */
    private static final int HOSTILE_VALUES = 6;
    private static final int HOSTILE_MAX_RUNS = 120;

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;
    private volatile Mode mode = Mode.PLAIN;
    private volatile byte[] sourceState;
    private volatile int hostileRun;
    private volatile int hostileFields = 1;
    private volatile String hostileChange = "";
    /** What the destination's {@code loadState} threw, if anything. */
    private volatile RuntimeException loadFailure;
    private final AtomicInteger droppedSubsections = new AtomicInteger();

    protected DeviceStateContract() {
        try {
            dir = Files.createTempDirectory("godwit-devkit");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        DeviceFactory real = factory();
        // Both devices are wrapped: the source's writes as the mode says, the destination's notes
        // what its loadState throws.
        vms.addDeviceFactory((DeviceContext ctx, Map<String, String> o) -> {
            Device d = real.create(ctx, o);
            return new Writer(d, ctx.vmName().equals("src"));
        }, Map.of(DeviceFactory.NAME, type()));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
    }

    @AfterEach
    void closeDeviceKit() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    @Test
    void stateRoundTripsThroughAMigration() throws Exception {
        MigrationInfo out = migrate(Mode.PLAIN, options(dir), true);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.PAUSED, dst.state()); // created with -S: nothing ran since the load
        StateEncoder loaded = new StateEncoder();
        device(dst).saveState(loaded);
        assertArrayEquals(sourceState, loaded.toByteArray(), "the destination's device saves other state"
                + " than the source sent: a field is not loaded");
        dst.cont();
        awaitActive(device(dst));
        assertClean(dst);
    }

    @Test
    void anOlderStreamWithoutTheOptionalSubsectionsLoads() throws Exception {
        String opts = subsectionOptions(dir);
        assumeTrue(opts != null, "nothing optional in this device's state");
        MigrationInfo out = migrate(Mode.DROP_SUBSECTIONS, opts, false);
        assertTrue(droppedSubsections.get() > 0, "the device wrote no subsection with " + opts);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(RunState.RUNNING, vms.get("dst").orElseThrow().state());
    }

    @Test
    void anUnknownSubsectionIsRefusedWithTheDevicesName() throws Exception {
        assertRefused(migrate(Mode.ADD_SUBSECTION, options(dir), false), "unknown subsection 'x-devkit-future'");
    }

    @Test
    void anUnknownVersionIsRefusedWithTheDevicesName() throws Exception {
        assertRefused(migrate(Mode.NEWER_VERSION, options(dir), false), "is not supported");
    }

    @Test
    void aTruncatedFieldIsRefusedWithTheDevicesName() throws Exception {
        assertRefused(migrate(Mode.TRUNCATE, options(dir), false), "ends before");
    }

    @Test
    void aHostileFieldValueIsTakenOrRefusedWithAStateFormatException() throws Exception {
        int refused = 0;
        List<String> taken = new ArrayList<>();
        int runs = HOSTILE_VALUES;
        for (int run = 0; run < runs; run++) {
            hostileRun = run;
            loadFailure = null;
            Path runDir = Files.createDirectories(dir.resolve("hostile-" + run)); // fresh images and files
            MigrationInfo out = migrate(Mode.HOSTILE, options(runDir), false);
            String what = "run " + run + " (" + hostileChange + "): " + out;
            RuntimeException thrown = loadFailure;
            if (thrown != null && !(thrown instanceof StateFormatException)) {
                throw new AssertionError("loadState threw " + thrown + " for a hostile value, not a"
                        + " StateFormatException; check the value where it is read: " + what, thrown);
            }
            if (out.status() == MigrationStatus.FAILED) {
                refused++;
                assertTrue(thrown instanceof StateFormatException, "a refusal that loadState did not make: " + what);
                assertRefused(out, Printable.of(thrown.getMessage())); // as info migrate shows it
            } else {
                assertEquals(MigrationStatus.COMPLETED, out.status(), what);
                taken.add(hostileChange);
                // A value taken must leave a device that runs: the VM goes on (a worker that trips over
                // it must mark its queue broken, not throw out of the device).
                Thread.sleep(100);
                assertEquals(RunState.RUNNING, vms.get("dst").orElseThrow().state(), what);
            }
            vms.destroy("src");
            vms.destroy("dst");
            runs = Math.min(HOSTILE_MAX_RUNS, hostileFields * HOSTILE_VALUES);
        }
        System.out.printf("%s: %d of %d hostile field values refused; taken: %s%n", type(), refused, runs, taken);
    }

    private MigrationInfo migrate(Mode m, String opts, boolean pausedDestination) throws Exception {
        mode = m;
        String dev = type() + (opts.isEmpty() ? "" : "," + opts);
        Vm src = vms.create(VmSpec.builder("src").memory(memory()).workload(workload()).device(dev).build());
        vms.create(VmSpec.builder("dst").memory(memory()).workload(workload()).device(dev).incoming("defer")
                .paused(pausedDestination).build());
        awaitActive(((Writer) src.devices().get(0).device()).real);
        String sock = dir.resolve("k.sock").toString();
        coordinator.incoming("dst", "unix:" + sock);
        coordinator.migrate("src", "unix:" + sock);
        await(() -> coordinator.info("src").status().isFinal() && coordinator.info("dst").status().isFinal(),
                "the migration");
        return coordinator.info("src");
    }

    private void assertRefused(MigrationInfo out, String why) throws Exception {
        Vm src = vms.get("src").orElseThrow();
        String label = src.devices().get(0).label();
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        assertTrue(out.error().contains(label) && out.error().contains(why),
                "expected '" + label + "' and '" + why + "' in: " + out.error());
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        assertClean(src);
    }

    private static void assertClean(Vm vm) throws InterruptedException {
        vm.stop(RunState.PAUSED);
        OracleVerdict v = vm.check();
        assertTrue(v.clean(), v.toString());
    }

    private static Device device(Vm vm) {
        Device d = vm.devices().get(0).device();
        return d instanceof DeviceStateContract.Writer w ? w.real : d;
    }

    protected static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /**
     * On the source, the device as the mode's writer; on the destination, the device with what its
     * {@code loadState} throws noted. Everything else is the device itself.
     */
    private final class Writer implements Device {
        final Device real;
        final boolean source;

        Writer(Device real, boolean source) {
            this.real = real;
            this.source = source;
        }

        @Override
        public void saveState(StateOutput out) {
            if (!source) {
                real.saveState(out);
                return;
            }
            StateEncoder copy = new StateEncoder();
            real.saveState(copy);
            sourceState = copy.toByteArray();
            switch (mode) {
                case PLAIN, NEWER_VERSION -> real.saveState(out);
                case ADD_SUBSECTION -> {
                    real.saveState(out);
                    out.subsection("x-devkit-future", s -> s.writeLong(1));
                }
                case DROP_SUBSECTIONS -> {
                    Recorder r = new Recorder();
                    real.saveState(r);
                    r.replay(out, r.fields.size(), true);
                }
                case TRUNCATE -> {
                    Recorder r = new Recorder();
                    real.saveState(r);
                    r.replay(out, r.fields.size() - 1, false);
                }
                case HOSTILE -> {
                    Recorder r = new Recorder();
                    real.saveState(r);
                    if (r.values.isEmpty()) {
                        hostileChange = "no top-level field to change";
                        r.replay(out, 0, false);
                        return;
                    }
                    hostileFields = r.values.size();
                    int field = hostileRun % r.values.size();
                    Object value = Hostile.value(r.values.get(field), hostileRun / r.values.size());
                    hostileChange = "field " + field + " of " + r.values.size() + ": " + Hostile.show(r.values.get(field))
                            + " -> " + Hostile.show(value);
                    r.fields.set(field, o -> Hostile.write(o, value));
                    r.replay(out, r.fields.size(), false);
                }
            }
        }

        @Override
        public int stateVersion() {
            return source && mode == Mode.NEWER_VERSION ? real.stateVersion() + 1 : real.stateVersion();
        }

        @Override
        public int minimumStateVersion() {
            return real.minimumStateVersion();
        }

        @Override
        public void loadState(StateInput in, int version) {
            try {
                real.loadState(in, version);
            } catch (RuntimeException e) {
                loadFailure = e;
                throw e;
            }
        }

        @Override
        public void realize() {
            real.realize();
        }

        @Override
        public void reset() {
            real.reset();
        }

        @Override
        public void pause() {
            real.pause();
        }

        @Override
        public void resume() {
            real.resume();
        }

        @Override
        public void unrealize() {
            real.unrealize();
        }

        @Override
        public boolean writesGuestMemoryDirectly() {
            return real.writesGuestMemoryDirectly();
        }

        @Override
        public String describe() {
            return real.describe();
        }

        @Override
        public Optional<OracleVerdict> check() {
            return real.check();
        }

        @Override
        public Optional<IterativeState> iterativeState() {
            return real.iterativeState();
        }
    }

    /** Records top-level fields (and their values) and subsections, to write them again changed. */
    private final class Recorder implements StateOutput {
        final List<Consumer<StateOutput>> fields = new ArrayList<>();
        final List<Object> values = new ArrayList<>();
        final List<Consumer<StateOutput>> subsections = new ArrayList<>();

        void replay(StateOutput out, int fieldCount, boolean dropSubsections) {
            for (int i = 0; i < fieldCount; i++) {
                fields.get(i).accept(out);
            }
            if (dropSubsections) {
                droppedSubsections.addAndGet(subsections.size());
            } else {
                subsections.forEach(s -> s.accept(out));
            }
        }

        @Override
        public void writeBoolean(boolean value) {
            values.add(value);
            fields.add(o -> o.writeBoolean(value));
        }

        @Override
        public void writeInt(int value) {
            values.add(value);
            fields.add(o -> o.writeInt(value));
        }

        @Override
        public void writeLong(long value) {
            values.add(value);
            fields.add(o -> o.writeLong(value));
        }

        @Override
        public void writeDouble(double value) {
            values.add(value);
            fields.add(o -> o.writeDouble(value));
        }

        @Override
        public void writeBytes(byte[] value) {
            values.add(value);
            fields.add(o -> o.writeBytes(value));
        }

        @Override
        public void writeString(String value) {
            values.add(value);
            fields.add(o -> o.writeString(value));
        }

        @Override
        public void subsection(String name, Consumer<StateOutput> body) {
            subsections.add(o -> o.subsection(name, body));
        }
    }

    /** Hostile values of a field's own type: the edges, one past the honest value, and garbage. */
    private static final class Hostile {
        private Hostile() {}

        static Object value(Object honest, int pick) {
            return switch (honest) {
                case Boolean b -> !b;
                case Integer v -> new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, v + 1, 1 << 20, v ^ 0x8000}[pick % 6];
                case Long v -> new long[] {-1L, Long.MIN_VALUE, Long.MAX_VALUE, v + 1, 1L << 40, v ^ 0x8000_0000L}[pick % 6];
                case Double v -> new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                    -v - 1e300, Double.MIN_VALUE, v + 1}[pick % 6];
                case byte[] v -> switch (pick % 6) {
                    case 0 -> new byte[0];
                    case 1 -> java.util.Arrays.copyOf(v, v.length + 1);
                    case 2 -> java.util.Arrays.copyOf(v, Math.max(0, v.length - 1));
                    case 3 -> new byte[v.length]; // zeros
                    case 4 -> filled(v.length, (byte) 0xff);
                    default -> new byte[] {(byte) 0xff, 0, 0x7f, (byte) 0x80, 1, 2, 3};
                };
                case String v -> new String[] {"", v + "\u001b[2J", "x".repeat(300), v + "x", "\u00e9\u0000",
                    v.isEmpty() ? "?" : v.substring(1)}[pick % 6];
                default -> throw new IllegalStateException("a field of type " + honest.getClass());
            };
        }

        private static byte[] filled(int n, byte b) {
            byte[] a = new byte[n];
            java.util.Arrays.fill(a, b);
            return a;
        }

        static void write(StateOutput o, Object v) {
            switch (v) {
                case Boolean b -> o.writeBoolean(b);
                case Integer i -> o.writeInt(i);
                case Long l -> o.writeLong(l);
                case Double d -> o.writeDouble(d);
                case byte[] b -> o.writeBytes(b);
                case String t -> o.writeString(t);
                default -> throw new IllegalStateException("a field of type " + v.getClass());
            }
        }

        static String show(Object v) {
            return v instanceof byte[] b ? b.length + " bytes" : String.valueOf(v);
        }
    }
}
