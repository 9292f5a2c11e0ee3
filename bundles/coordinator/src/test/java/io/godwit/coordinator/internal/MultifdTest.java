package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
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
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Multifd on unix sockets in one JVM: round ordering under a slow channel, a channel that dies, and
 * the VM shapes the other tests do not cover. Every migration ends with the sweep oracle. (Multifd
 * over the real tcp and unix transports, with 1, 2 and 4 channels and compression, is the transport
 * kit's MultifdContract.)
 */
class MultifdTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;

    MultifdTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        dir = Files.createTempDirectory("godwit-mfd");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    /** A unix socket transport with several channels; a test wraps the n-th channel of a side (0 is the main one). */
    private static class MultiChannel extends ForwardingTransport {
        final AtomicInteger outgoing = new AtomicInteger();
        final AtomicInteger incoming = new AtomicInteger();

        @Override
        public Set<TransportCapability> capabilities() {
            return Set.of(TransportCapability.BIDIRECTIONAL, TransportCapability.MULTI_CHANNEL);
        }

        @Override
        MigrationChannel outgoing(MigrationChannel channel) {
            return outgoing(outgoing.getAndIncrement(), channel);
        }

        @Override
        MigrationChannel incoming(MigrationChannel channel) {
            return incoming(incoming.getAndIncrement(), channel);
        }

        MigrationChannel outgoing(int n, MigrationChannel channel) {
            return channel;
        }

        MigrationChannel incoming(int n, MigrationChannel channel) {
            return channel;
        }
    }

    private Vm pair(String workload, long mem, int vcpus) {
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(vcpus).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(mem).vcpus(vcpus).workload(workload).incoming("defer").build());
        for (String vm : new String[] {"src", "dst"}) {
            coordinator.setCapability(vm, MigrationCapability.MULTIFD, true);
        }
        return src;
    }

    private String start(Transport t, String scheme, int channels) {
        coordinator.addTransport(t, Map.of(Transport.SCHEME, scheme));
        coordinator.setParameter("src", MigrationParameter.MULTIFD_CHANNELS, channels);
        String uri = scheme + ":" + dir.resolve(scheme + ".sock");
        coordinator.incoming("dst", uri);
        return uri;
    }

    /**
     * As over one stream, multifd's first pass reads no page the guest never touched: the migration
     * thread asks the block (RamBlock.untouchedPages) and tells the channels those pages are zero, so
     * no channel thread faults them in (a read of each would map it, and cost a fault per page).
     */
    @Test
    void aFirstPassOverNeverTouchedRamFaultsNothingInOnTheChannels() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/pagemap")), "no /proc/self/pagemap");
        Vm src = pair("sweep:4M,rate=2000", 64 << 20, 1);
        RamBlock block = src.memory().blocks().get(0);
        long[] words = new long[(int) (block.pages() / 64)];
        block.untouchedPages(0, words);
        long before = java.util.Arrays.stream(words).map(Long::bitCount).sum();
        assertTrue(before >= block.pages() / 2, "most of a 4 MiB sweep's 64 MiB RAM is untouched: " + before);
        String uri = start(new MultiChannel(), "mc", 2);
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", 60_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        block.untouchedPages(0, words);
        long after = java.util.Arrays.stream(words).map(Long::bitCount).sum();
        // the guest's own sweep touches only its 4 MiB: every page beyond stays untouched
        assertTrue(after >= before - 1024, "the migration faulted in " + (before - after) + " never-touched pages");
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    private MigrationInfo await(String vm, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    private void awaitSyncs(long syncs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (coordinator.info("src").ram().dirtySyncCount() < syncs && !coordinator.info("src").status().isFinal()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
    }

    private MigrationInfo awaitCompletedAndClean() throws InterruptedException {
        MigrationInfo out = await("src", 120_000);
        MigrationInfo in = await("dst", 30_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        Vm dst = vms.get("dst").orElseThrow();
        dst.stop(RunState.PAUSED);
        var verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
        return out;
    }

    /**
     * A page sent in round n over a slow channel must not land after its copy of round n+1 over a fast
     * one. Channel 1's destination reads in small sips, so it lags behind channel 0 by whatever fills
     * its socket and queue; a sweep guest rewrites every page each round, and the last rounds run
     * with the guest stopped, so a late stale copy stays in the destination's memory for the oracle
     * to see. Without the sync at the end of each round this fails.
     */
    @Test
    void aPageOfTheNextRoundNeverLandsBeforeItsOlderCopyOnASlowChannel() throws Exception {
        pair("sweep:4M,rate=20000", 64 << 20, 1); // each page rewritten every 51 ms
        MultiChannel slow = slowThirdChannel();
        String uri = start(slow, "slow", 3);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1); // it iterates
        coordinator.migrate("src", uri);
        awaitSyncs(8);
        // Then it ends whatever this host's speed: the slowed channel holds the bandwidth estimate down to
        // a few MiB/s, so even 2 s did not fit the working set on a loaded host (the test is about order)
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 30_000);
        MigrationInfo out = awaitCompletedAndClean();
        assertTrue(out.ram().dirtySyncCount() >= 8, out.toString());
        assertEquals(3, out.multifd().channels(), out.toString());
        assertTrue(out.multifd().bytes() > out.ram().total() / 4, out.toString());
    }

    /**
     * The bandwidth estimate counts what every channel moves. With one data channel slowed to sips,
     * the others wait at each round's SYNC while it reads its batch, and no batch ends meanwhile; the
     * estimate is compared with what each pass sent over its time. It was half of that (3.3 MB/s
     * against some 6): acknowledgements carried whole batches applied only, and came as batches ended.
     */
    @Test
    void theBandwidthEstimateCountsWhatEveryChannelMovesMidBatch() throws Exception {
        pair("sweep:4M,rate=20000", 64 << 20, 1);
        String uri = start(slowThirdChannel(), "slow", 3);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1); // it iterates
        coordinator.migrate("src", uri);
        awaitSyncs(9);
        java.util.List<io.godwit.api.migration.MigrationPass> passes = coordinator.history("src").passes();
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 30_000);
        awaitCompletedAndClean();
        // from pass 3 on, each pass sends the 4 MiB working set through the slowed channel's pace
        double[] estimateOverSent = passes.stream().filter(p -> p.pass() >= 3 && p.endMs() > p.startMs())
                .mapToDouble(p -> p.bandwidthBytesPerSecond() / (p.bytesSent() * 1000.0 / (p.endMs() - p.startMs())))
                .sorted().toArray();
        assertTrue(estimateOverSent.length >= 4, passes.toString());
        double median = estimateOverSent[estimateOverSent.length / 2];
        assertTrue(median > 0.75, "the estimate over what the passes sent: " + java.util.Arrays.toString(estimateOverSent)
                + " " + passes);
    }

    /** Three channels (the main one, then data channels 1 and 2); data channel 2's destination reads in sips. */
    private static MultiChannel slowThirdChannel() {
        return new MultiChannel() {
            @Override
            MigrationChannel incoming(int n, MigrationChannel channel) {
                return n != 2 ? channel : new ForwardingChannel(channel) {
                    @Override
                    public int read(ByteBuffer dst) throws IOException {
                        try {
                            Thread.sleep(40); // some 1.6 MB/s: busy with a batch for most of a second
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                        if (dst.remaining() <= 64 << 10) {
                            return inner.read(dst);
                        }
                        int n = inner.read(dst.slice(dst.position(), 64 << 10)); // a sip, then a pause
                        if (n > 0) {
                            dst.position(dst.position() + n);
                        }
                        return n;
                    }
                };
            }
        };
    }

    /**
     * The fill guest's pages do not compress: every batch goes raw, from the copy the codec was given,
     * and the ratio says so.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"zlib", "zstd"})
    void pagesThatDoNotCompressGoRaw(String compression) throws Exception {
        MigrationInfo out = migrateFilled("fill", compression);
        assertTrue(out.multifd().compressionRatio() < 1.01, out.toString());
    }

    /** A 16 MiB fill guest, every page filled, migrated over 2 channels with {@code compression}; oracle checked. */
    private MigrationInfo migrateFilled(String workload, String compression) throws Exception {
        Vm src = pair(workload, 16 << 20, 1);
        long deadline = System.currentTimeMillis() + 30_000;
        while (src.cpus().get(0).progress() < 4096 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20); // every page filled before the migration starts
        }
        String uri = start(new MultiChannel(), "filled", 2);
        coordinator.setParameter("src", MigrationParameter.MULTIFD_COMPRESSION,
                MigrationParameter.MULTIFD_COMPRESSIONS.indexOf(compression));
        coordinator.migrate("src", uri);
        MigrationInfo out = awaitCompletedAndClean();
        assertEquals(4096 * 4096L, out.multifd().pageBytes(), out.toString());
        return out;
    }

    /**
     * fill:random=25 (the benchmark's compressible guest): a quarter of each page random, the rest one
     * repeated word, so the pages compress to about a quarter whatever the method, and the oracle still
     * tells every page from every other.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"zlib", "zstd"})
    void aCompressibleFillCompressesToAboutItsRandomPart(String compression) throws Exception {
        MigrationInfo out = migrateFilled("fill:random=25", compression);
        double ratio = out.multifd().compressionRatio();
        assertTrue(ratio > 3 && ratio < 4.1, ratio + " " + out);
    }

    /** A data channel that dies fails the migration with one line; the source runs on, intact. */
    @Test
    void aDyingChannelFailsTheMigrationAndTheSourceRunsOn() throws Exception {
        Vm src = pair("sweep:16M,rate=40000", 64 << 20, 2);
        MultiChannel dying = new MultiChannel() {
            @Override
            MigrationChannel outgoing(int n, MigrationChannel channel) {
                return n != 2 ? channel : new ForwardingChannel(channel) {
                    private long written;

                    @Override
                    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                        if (written > 4 << 20) {
                            inner.close();
                            throw new IOException("the link of channel 1 went down");
                        }
                        long n = inner.write(srcs, offset, length);
                        written += n;
                        return n;
                    }
                };
            }
        };
        String uri = start(dying, "dying", 2);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src", 60_000);
        assertEquals(MigrationStatus.FAILED, out.status(), String.valueOf(out));
        assertTrue(out.error().contains("multifd channel 1"), out.error());
        assertFalse(out.error().contains("\n"), out.error());
        assertEquals(RunState.RUNNING, src.state());
        MigrationInfo in = await("dst", 30_000);
        assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
        assertNotEquals(RunState.RUNNING, vms.get("dst").orElseThrow().state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's guest is intact");
    }

    /**
     * A hostile source: its one data channel sends a compressed batch listing two pages whose bytes
     * decode to another size, or do not decode. The destination fails with one line and its VM never
     * starts.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}: {1} bytes")
    @org.junit.jupiter.params.provider.CsvSource({"zlib,4096", "zlib,12288", "zlib,-1", "zstd,4096", "zstd,12288",
            "zstd,-1"})
    void aCompressedBatchThatDecodesToTheWrongSizeIsRefused(String compression, int decodedBytes) throws Exception {
        Vm src = pair("idle", 16 << 20, 1);
        start(new MultiChannel(), "hostile", 1);
        int codec = io.godwit.api.migration.MigrationParameter.MULTIFD_COMPRESSIONS.indexOf(compression);
        UnixTestTransport unix = new UnixTestTransport();
        try (MigrationChannel main = unix.connectOutgoing(dir.resolve("hostile.sock").toString())) {
            io.godwit.wire.FrameWriter w = new io.godwit.wire.FrameWriter(main);
            w.writeStreamHeader();
            io.godwit.wire.proto.Hello hello = VmDescription.hello(src, java.util.List.of("multifd")).toBuilder()
                    .setMultifdChannels(1).setMultifdCompression(compression).build();
            w.writeMessage(io.godwit.wire.FrameType.HELLO, hello);
            w.flush();
            MigrationChannel data = unix.connectOutgoing(dir.resolve("hostile.sock").toString());
            io.godwit.wire.FrameWriter d = new io.godwit.wire.FrameWriter(data);
            d.writeStreamHeader();
            d.writeMessage(io.godwit.wire.FrameType.COMMAND, io.godwit.wire.proto.Command.newBuilder()
                    .setKind(io.godwit.wire.proto.Command.Kind.MULTIFD_INIT).setUuid(hello.getUuid()).build());
            ByteBuffer pages = ByteBuffer.allocateDirect(Math.max(decodedBytes, 4096));
            while (pages.hasRemaining()) {
                pages.put((byte) 0x5a);
            }
            ByteBuffer packed = ByteBuffer.allocateDirect(64 << 10);
            int len;
            try (MultifdCodec c = MultifdCodec.of(codec, 1)) {
                len = c.compress(pages.flip(), packed);
            }
            if (decodedBytes < 0) {
                packed.put(0, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}); // not zlib, not zstd
            }
            d.writeCompressedPages(io.godwit.wire.proto.RamBatch.newBuilder().setBlock(0).addNormal(0).addNormal(1)
                    .setCodec(codec).build(), packed.slice(0, len));
            d.flush();
            MigrationInfo in = await("dst", 30_000);
            data.close();
            assertEquals(MigrationStatus.FAILED, in.status(), String.valueOf(in));
            assertTrue(in.error().contains(decodedBytes < 0 ? "does not decode"
                    : "decodes to " + (decodedBytes > 8192 ? "more than 8192" : "4096") + " bytes, not the 8192"),
                    in.error());
            assertFalse(in.error().contains("\n"), in.error());
            assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        }
    }

    /** multifd is refused up front where it cannot work, with the way out. */
    @Test
    void multifdNeedsAMultiChannelTransportAndNoPostcopy() throws Exception {
        pair("idle", 16 << 20, 1);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "unix:" + dir.resolve("u.sock")));
        assertTrue(e.getMessage().contains("multi-channel"), e.getMessage());
        coordinator.addTransport(new MultiChannel(), Map.of(Transport.SCHEME, "multi"));
        coordinator.setCapability("src", MigrationCapability.POSTCOPY_RAM, true);
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, true);
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "multi:" + dir.resolve("m.sock")));
        assertTrue(e.getMessage().contains("multifd cannot be combined with postcopy-ram"), e.getMessage());
    }
}
