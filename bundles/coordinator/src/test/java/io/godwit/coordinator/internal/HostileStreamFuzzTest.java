package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real migration stream, recorded, then mutated at random (bytes flipped, cut short, slices
 * repeated, removed or overwritten) and fed to fresh destination VMs. Whatever the bytes, the
 * destination must end (no hang), with a clear error of the kinds the loader means to throw (never an
 * unexpected exception, which would show as a Java class name), and a destination that failed must
 * never run. A stream cut short must never complete. After all of it, the host still loads the
 * unmutated stream and the oracle passes.
 */
@Timeout(900) // each case has its own limit (a hang fails it in seconds); this one is for a long run's whole method
class HostileStreamFuzzTest {

    /**
     * Mutated streams per run, and a fifth as many corrupted return paths (1000 take about 12 s here);
     * a failure names the case's seed. A longer run, about 5 minutes: {@code mvn -pl bundles/coordinator
     * test -Dtest=HostileStreamFuzzTest -Dgodwit.fuzz.mutations=20000 -Dgodwit.fuzz.seed=N}.
     */
    private static final int MUTATIONS = Integer.getInteger("godwit.fuzz.mutations", 1000);
    private static final long SEED = Long.getLong("godwit.fuzz.seed", 20261126L);
    /** What an unexpected exception's toString looks like: a qualified class name first. */
    private static final Pattern CLASS_NAME = Pattern.compile("^([a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(Exception|Error)\\b.*",
            Pattern.DOTALL);

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Map<String, byte[]> streams = new ConcurrentHashMap<>();
    private final ByteArrayOutputStream recorded = new ByteArrayOutputStream();
    /** Per socket: how to corrupt what the destination answers, and how many bytes it answered. */
    private final Map<String, Corruption> corruptions = new ConcurrentHashMap<>();
    private final Map<String, Integer> answered = new ConcurrentHashMap<>();
    private final java.nio.file.Path dir;

    HostileStreamFuzzTest() throws IOException {
        dir = java.nio.file.Files.createTempDirectory("godwit-fuzz");
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(TestDevice.factory(), Map.of(DeviceFactory.NAME, TestDevice.TYPE));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new BytesTransport(), Map.of(Transport.SCHEME, "bytes"));
        coordinator.addTransport(new CorruptingUnix(), Map.of(Transport.SCHEME, "unix"));
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
        try (var files = java.nio.file.Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /**
     * 4 MiB of which the sweep keeps 2 pages busy: most of RAM goes as zero pages (headers only), so
     * random positions land on the stream's structure as often as on page data.
     */
    private static VmSpec.Builder guest(String name, String device) {
        return VmSpec.builder(name).memory(4 << 20).workload("sweep:8K").device(device);
    }

    private static VmSpec.Builder source(String name) {
        return guest(name, "test-dev,fields=3,sub=extra");
    }

    private static VmSpec.Builder destination(String name) {
        return guest(name, "test-dev,fields=3,knows=extra").incoming("defer");
    }

    @Test
    void mutatedStreamsFailCleanlyAndNeverStartTheDestination() throws Exception {
        byte[] stream = record();
        SplittableRandom seeds = new SplittableRandom(SEED);
        int failed = 0;
        int completed = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            long seed = seeds.nextLong();
            Mutation m = Mutation.of(stream, new SplittableRandom(seed));
            String vm = "dst" + i;
            MigrationInfo in = load(vm, m.bytes());
            String what = "mutation " + i + " (seed " + seed + ", " + m.description() + "): " + in;
            Vm dst = vms.get(vm).orElseThrow();
            if (in.status() == MigrationStatus.FAILED) {
                failed++;
                assertFalse(in.error() == null || in.error().isBlank(), what);
                assertFalse(CLASS_NAME.matcher(in.error()).matches(), "an unexpected exception: " + what);
                assertFalse(in.error().startsWith("While parsing"), "protobuf's words without the frame's: " + what);
                assertTrue(in.error().chars().noneMatch(c -> c < 0x20 || c >= 0x7f && c <= 0x9f),
                        "control characters from the stream in the error: " + what);
                assertEquals(RunState.INMIGRATE, dst.state(), "a failed destination must not run: " + what);
            } else {
                completed++;
                assertEquals(MigrationStatus.COMPLETED, in.status(), what);
                assertFalse(m.cut(), "a stream cut short completed: " + what);
            }
            vms.destroy(vm);
        }
        System.out.printf("fuzz: %d mutated streams of %d bytes: %d failed cleanly, %d completed"
                + " (bytes changed inside page data or padding, which the stream does not check, as QEMU's)%n",
                MUTATIONS, stream.length, failed, completed);
        assertTrue(failed > MUTATIONS / 3, "too few mutations were refused: " + failed + " of " + MUTATIONS);
        // The host is as good as before: the stream as recorded loads, and the guest's pages pass.
        MigrationInfo in = load("again", stream);
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        Vm again = vms.get("again").orElseThrow();
        again.stop(RunState.PAUSED);
        assertTrue(again.check().clean(), again.check().toString());
    }

    /**
     * The source's side: a real destination whose answers are corrupted on the way back (a bit
     * flipped, bytes overwritten or inserted, the path cut), at a random place in the first twice as
     * many bytes as a whole migration's answers take. The same source VM takes every case: each
     * migration ends, failed or completed, or is still iterating (answers that make the link look
     * slow, as a slow link would) and then ends when cancelled; a migration that did not complete
     * leaves the source running, or paused when the path broke after the final state went out (the
     * destination may run the guest). At the end the source still migrates with the oracle clean.
     */
    @Test
    void aCorruptedReturnPathNeverHurtsTheSource() throws Exception {
        int length = recordReturnPath();
        SplittableRandom seeds = new SplittableRandom(SEED + 1);
        int failed = 0;
        int completed = 0;
        int iterating = 0;
        int paused = 0;
        Vm src = vms.create(source("src").build());
        awaitProgress(src);
        int cases = Math.max(1, MUTATIONS / 5);
        for (int i = 0; i < cases; i++) {
            long seed = seeds.nextLong();
            Corruption c = Corruption.of(2 * length, new SplittableRandom(seed));
            String sock = dir.resolve("r" + i + ".sock").toString();
            corruptions.put(sock, c);
            vms.create(destination("d" + i).build());
            coordinator.incoming("d" + i, "unix:" + sock);
            coordinator.migrate(src.name(), "unix:" + sock);
            MigrationInfo out = awaitFinal(src.name(), 3_000);
            String what = "case " + i + " (seed " + seed + ", " + c + "): " + out;
            if (!out.status().isFinal()) {
                iterating++;
                coordinator.cancel(src.name()); // too late once COMPLETE went out: then it ends on its own
                out = awaitFinal(src.name(), 10_000);
                what = "case " + i + " (seed " + seed + ", " + c + "), cancelled: " + out;
                assertTrue(out.status().isFinal(), what);
            }
            MigrationInfo in = awaitFinal("d" + i, 2_000);
            if (!in.status().isFinal()) {
                coordinator.cancel("d" + i); // a destination left waiting for more
                in = awaitFinal("d" + i, 10_000);
            }
            what += "; destination: " + in;
            // Never two copies: a source that runs again means a destination that never started.
            assertFalse(src.state() == RunState.RUNNING && in.status() == MigrationStatus.COMPLETED,
                    "the guest runs on both hosts: " + what);
            if (out.status() == MigrationStatus.COMPLETED) {
                completed++; // the corruption missed everything that mattered, or came after RESUMED
                assertEquals(RunState.POSTMIGRATE, src.state(), what);
                vms.destroy(src.name());
                src = vms.create(source("s" + i).build());
                awaitProgress(src);
            } else {
                if (out.status() == MigrationStatus.FAILED) {
                    failed++;
                    assertFalse(CLASS_NAME.matcher(out.error()).matches(), "an unexpected exception: " + what);
                    assertTrue(out.error().chars().noneMatch(ch -> ch < 0x20 || ch >= 0x7f && ch <= 0x9f), what);
                }
                if (out.error() != null && out.error().contains("the source stays paused")) {
                    // Lost after the final state went out: the destination may run the guest, so the
                    // source must not (no two copies running); the user decides, here with cont.
                    paused++;
                    assertEquals(RunState.PAUSED, src.state(), what);
                    src.cont();
                } else {
                    assertEquals(RunState.RUNNING, src.state(), "the source must run on: " + what);
                }
            }
            vms.destroy("d" + i);
        }
        System.out.printf("fuzz: %d corrupted return paths (about %d bytes each): %d failed (%d of them after"
                + " the final state went out, the source left paused), %d still iterating after 3 s and cancelled,"
                + " %d completed%n", cases, length, failed, paused, iterating, completed);
        assertTrue(failed >= cases / 10, "too few corruptions failed the migration: " + failed + " of " + cases);
        // The source that took all of it still migrates, and its pages are right at the destination.
        vms.create(destination("last").build());
        String sock = dir.resolve("last.sock").toString();
        coordinator.incoming("last", "unix:" + sock);
        coordinator.migrate(src.name(), "unix:" + sock);
        assertEquals(MigrationStatus.COMPLETED, awaitFinal(src.name()).status(), String.valueOf(coordinator.info(src.name())));
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("last").status());
        Vm last = vms.get("last").orElseThrow();
        last.stop(RunState.PAUSED);
        assertTrue(last.check().clean(), last.check().toString());
    }

    private static void awaitProgress(Vm vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (vm.cpus().get(0).progress() < 1024 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10); // some passes over its pages first
        }
    }

    /** A clean migration with the return path on: how many bytes the destination's answers take. */
    private int recordReturnPath() throws Exception {
        Vm src = vms.create(source("rec-src").build());
        awaitProgress(src);
        vms.create(destination("rec-dst").build());
        String sock = dir.resolve("rec.sock").toString();
        coordinator.incoming("rec-dst", "unix:" + sock);
        coordinator.migrate("rec-src", "unix:" + sock);
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("rec-src").status(), String.valueOf(coordinator.info("rec-src")));
        assertEquals(MigrationStatus.COMPLETED, awaitFinal("rec-dst").status());
        vms.destroy("rec-src");
        vms.destroy("rec-dst");
        Integer n = answered.get(sock);
        assertTrue(n != null && n > 0, "the destination answered nothing");
        return n;
    }

    /** Migrates the running guest into {@code bytes:record}, one way, and returns the stream. */
    private byte[] record() throws Exception {
        Vm src = vms.create(source("src").build());
        long deadline = System.currentTimeMillis() + 20_000;
        while (src.cpus().get(0).progress() < 1024 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10); // some passes over its 2 pages first
        }
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        coordinator.migrate("src", "bytes:record");
        MigrationInfo out = awaitFinal("src");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        src.stop(RunState.PAUSED);
        return recorded.toByteArray();
    }

    /** Feeds {@code bytes} to a new incoming VM and waits until its migration has ended. */
    private MigrationInfo load(String vm, byte[] bytes) throws Exception {
        vms.create(destination(vm).build());
        streams.put(vm, bytes);
        coordinator.incoming(vm, "bytes:" + vm);
        MigrationInfo in = awaitFinal(vm);
        if (!in.status().isFinal()) {
            fail("the destination hangs on a stream of " + bytes.length + " bytes: " + in);
        }
        return in;
    }

    private MigrationInfo awaitFinal(String vm) throws InterruptedException {
        return awaitFinal(vm, 10_000);
    }

    private MigrationInfo awaitFinal(String vm, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(2);
        }
        return info;
    }

    /** One random change to a stream. */
    private record Mutation(byte[] bytes, String description, boolean cut) {

        static Mutation of(byte[] s, SplittableRandom r) {
            int at = r.nextInt(s.length);
            switch (r.nextInt(5)) {
                case 0 -> {
                    byte[] b = s.clone();
                    int n = 1 + r.nextInt(8);
                    for (int k = 0; k < n; k++) {
                        b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                    return new Mutation(b, n + " bit(s) flipped", false);
                }
                case 1 -> {
                    return new Mutation(Arrays.copyOf(s, at), "cut at " + at, true);
                }
                case 2 -> {
                    int len = 1 + r.nextInt(Math.min(4096, s.length - at));
                    byte[] b = new byte[s.length + len];
                    System.arraycopy(s, 0, b, 0, at + len);
                    System.arraycopy(s, at, b, at + len, s.length - at);
                    return new Mutation(b, len + " bytes at " + at + " repeated", false);
                }
                case 3 -> {
                    int len = 1 + r.nextInt(Math.min(4096, s.length - at));
                    byte[] b = new byte[s.length - len];
                    System.arraycopy(s, 0, b, 0, at);
                    System.arraycopy(s, at + len, b, at, s.length - at - len);
                    return new Mutation(b, len + " bytes at " + at + " removed", false);
                }
                default -> {
                    byte[] b = s.clone();
                    int len = 1 + r.nextInt(Math.min(64, s.length - at));
                    for (int k = 0; k < len; k++) {
                        b[at + k] = (byte) r.nextInt(256);
                    }
                    return new Mutation(b, len + " bytes at " + at + " overwritten", false);
                }
            }
        }
    }

    /**
     * {@code bytes:record} keeps what a source writes; {@code bytes:NAME} serves the stream stored
     * for VM NAME to an incoming migration, then end of stream. One way: what a destination writes
     * back is dropped.
     */
    private final class BytesTransport implements Transport {

        @Override
        public java.util.Set<TransportCapability> capabilities() {
            return java.util.Set.of();
        }

        @Override
        public MigrationChannel connectOutgoing(String address) {
            return new BytesChannel("bytes:" + address, ByteBuffer.allocate(0));
        }

        @Override
        public IncomingListener listenIncoming(String address) {
            byte[] s = streams.get(address);
            return new IncomingListener() {
                @Override
                public String uri() {
                    return "bytes:" + address;
                }

                @Override
                public MigrationChannel accept() {
                    return new BytesChannel(uri(), ByteBuffer.wrap(s));
                }

                @Override
                public void close() {}
            };
        }
    }

    private final class BytesChannel implements MigrationChannel {
        private final String name;
        private final ByteBuffer in;
        private volatile boolean open = true;

        BytesChannel(String name, ByteBuffer in) {
            this.name = name;
            this.in = in;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void shutdownOutput() {}

        @Override
        public int read(ByteBuffer dst) throws IOException {
            ensureOpen();
            if (!in.hasRemaining()) {
                return -1;
            }
            int n = Math.min(dst.remaining(), in.remaining());
            dst.put(in.slice(in.position(), n));
            in.position(in.position() + n);
            return n;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            ensureOpen();
            int n = src.remaining();
            if (name.equals("bytes:record")) {
                synchronized (recorded) {
                    byte[] b = new byte[n];
                    src.get(b);
                    recorded.write(b, 0, n);
                }
            } else {
                src.position(src.limit());
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        private void ensureOpen() throws IOException {
            if (!open) {
                throw new java.nio.channels.ClosedChannelException();
            }
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }

    /** One change to the bytes a destination answers: at byte {@code at}, of {@code kind}. */
    private record Corruption(int kind, int at, int len, long seed) {
        static final String[] KINDS = {"bit flipped", "bytes overwritten", "bytes inserted", "cut"};

        static Corruption of(int span, SplittableRandom r) {
            return new Corruption(r.nextInt(KINDS.length), r.nextInt(Math.max(1, span)), 1 + r.nextInt(16), r.nextLong());
        }

        @Override
        public String toString() {
            return (kind == 0 || kind == 3 ? KINDS[kind] : len + " " + KINDS[kind]) + " at byte " + at;
        }
    }

    /**
     * The unix test transport; on the source's side it counts the destination's answers and, when a
     * {@link Corruption} is set for the socket, applies it to them as they arrive.
     */
    private final class CorruptingUnix implements Transport {
        private final UnixTestTransport unix = new UnixTestTransport();

        @Override
        public java.util.Set<TransportCapability> capabilities() {
            return unix.capabilities();
        }

        @Override
        public MigrationChannel connectOutgoing(String address) throws IOException {
            return new CorruptingChannel(address, unix.connectOutgoing(address), corruptions.get(address));
        }

        @Override
        public IncomingListener listenIncoming(String address) throws IOException {
            return unix.listenIncoming(address);
        }
    }

    private final class CorruptingChannel implements MigrationChannel {
        private final String address;
        private final MigrationChannel ch;
        private final Corruption c;
        private final SplittableRandom random;
        private int seen; // answer bytes passed on so far, counting inserted ones
        private boolean inserted;

        CorruptingChannel(String address, MigrationChannel ch, Corruption c) {
            this.address = address;
            this.ch = ch;
            this.c = c;
            this.random = new SplittableRandom(c == null ? 0 : c.seed());
        }

        @Override
        public String name() {
            return "unix:" + address;
        }

        @Override
        public void shutdownOutput() throws IOException {
            ch.shutdownOutput();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (c != null && c.kind() == 3 && seen >= c.at()) {
                return -1; // cut: the answers end here
            }
            if (c != null && c.kind() == 2 && !inserted && seen >= c.at()) {
                inserted = true;
                int n = Math.min(c.len(), dst.remaining());
                for (int k = 0; k < n; k++) {
                    dst.put((byte) random.nextInt(256));
                }
                seen += n;
                return n;
            }
            int from = dst.position();
            ByteBuffer into = dst;
            if (c != null && c.kind() >= 2 && seen < c.at() && dst.remaining() > c.at() - seen) {
                into = dst.slice(from, c.at() - seen); // stop where the insertion or the cut goes
            }
            int n = ch.read(into);
            if (n > 0) {
                dst.position(from + n);
                corrupt(dst, from, n);
                seen += n;
                answered.merge(address, n, Integer::sum);
            }
            return n;
        }

        /** Flips or overwrites the bytes of [seen, seen + n) that the corruption covers. */
        private void corrupt(ByteBuffer b, int start, int n) {
            if (c == null || c.kind() >= 2) {
                return;
            }
            int end = c.kind() == 0 ? c.at() + 1 : c.at() + c.len();
            for (int k = Math.max(seen, c.at()); k < Math.min(seen + n, end); k++) {
                int i = start + (k - seen);
                byte v = c.kind() == 0 ? (byte) (b.get(i) ^ (1 << random.nextInt(8))) : (byte) random.nextInt(256);
                b.put(i, v);
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return ch.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return ch.write(srcs, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return ch.write(srcs);
        }

        @Override
        public boolean isOpen() {
            return ch.isOpen();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
