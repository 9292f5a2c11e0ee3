package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.wire.FrameType;
import io.godwit.wire.StreamHeader;
import io.godwit.wire.proto.Hello;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Strings a source puts in its hello (up to 1 MiB) reach {@code info migrate} and the log escaped and
 * bounded: a terminal sequence is shown, not obeyed, and a megabyte of name is cut to a few hundred
 * characters with a marker.
 */
class PeerTextTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator = new Coordinator(vms);
    private final Path dir = Files.createTempDirectory("godwit-peer-text");

    PeerTextTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Test
    void helloStringsReachInfoMigrateAndTheLogEscapedAndBounded() throws Exception {
        Vm dst = vms.create(VmSpec.builder("dst").memory(1 << 20).workload("idle").incoming("defer").build());
        // A hello that passes the check (the VM's name is not compared) and a stream that ends there.
        String name = "\u001b]0;pwned\u0007\u202e" + "n".repeat(300_000);
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            MigrationInfo in = send(VmDescription.hello(dst, List.of()).toBuilder().setVmName(name).build());
            assertTrue(in.error().startsWith("the stream ended"), in.error());
        } finally {
            System.setErr(err);
        }
        String receiving = log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("receiving VM"))
                .findFirst().orElseThrow(() -> new AssertionError("no 'receiving VM' line in: " + log));
        assertTrue(receiving.contains("receiving VM \\x1b]0;pwned\\x07\\u202ennn"), receiving);
        assertTrue(receiving.length() < 400, () -> receiving.length() + " characters");

        // A hello whose workload differs: the error quotes it.
        MigrationInfo in = send(VmDescription.hello(dst, List.of()).toBuilder()
                .setWorkload("\u001b[2J" + "w".repeat(600_000)).build());
        String error = in.error();
        assertTrue(error.length() <= Printable.MAX_MESSAGE, () -> error.length() + " characters: " + error.substring(0, 300));
        assertTrue(error.startsWith("the source runs synthetic '\\x1b[2Jwww"), error);
        assertTrue(error.contains("more characters]', this VM synthetic 'idle'"), error);
        assertEquals(RunState.INMIGRATE, dst.state());
    }

    /** Sends a stream of just this hello to VM dst, over a unix socket, and waits for the migration's end. */
    private MigrationInfo send(Hello hello) throws Exception {
        byte[] h = hello.toByteArray();
        ByteBuffer stream = ByteBuffer.allocate(StreamHeader.LENGTH + 5 + h.length)
                .putInt(StreamHeader.MAGIC).putInt(StreamHeader.VERSION).putInt(0)
                .put((byte) FrameType.HELLO.code()).putInt(h.length).put(h).flip();
        Path sock = dir.resolve("in.sock");
        Files.deleteIfExists(sock);
        coordinator.incoming("dst", "unix:" + sock);
        MigrationInfo in;
        try (SocketChannel source = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            source.connect(UnixDomainSocketAddress.of(sock));
            while (stream.hasRemaining()) {
                source.write(stream);
            }
            source.shutdownOutput();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!(in = coordinator.info("dst")).status().isFinal() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        return in;
    }
}
