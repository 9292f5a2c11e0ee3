package io.godwit.transport.rdma.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.RemoteMemoryChannel;
import io.godwit.api.transport.Transport;
import io.godwit.privatefiles.internal.PrivateFiles;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.SplittableRandom;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** One-sided writes on real sockets and real shared files: registration, keys, completions, failures. */
@Timeout(60)
class RemoteWriteTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    private Path keys;
    private Transport rdma;
    private final Arena arena = Arena.ofShared();
    private IncomingListener listener;
    private RemoteMemoryChannel source;
    private RemoteMemoryChannel destination;

    @BeforeEach
    void transport() {
        keys = dir.resolve("keys");
        rdma = TestRdma.transport(keys);
    }

    @AfterEach
    void close() throws IOException {
        IncomingListener l = listener;
        RemoteMemoryChannel s = source;
        RemoteMemoryChannel d = destination;
        try (l; s; d) {
            // all three
        }
        arena.close();
    }

    private void connect(String options) throws IOException {
        listener = rdma.listenIncoming("127.0.0.1:0");
        String address = listener.uri().substring("rdma:".length());
        source = (RemoteMemoryChannel) rdma.connectOutgoing(address + options);
        destination = (RemoteMemoryChannel) listener.accept();
    }

    private MemorySegment random(long size, long seed) {
        MemorySegment s = arena.allocate(size, 4096);
        SplittableRandom r = new SplittableRandom(seed);
        for (long off = 0; off < size; off += 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, off, r.nextLong());
        }
        return s;
    }

    @Test
    void writesLandInTheRegisteredMemoryAndCompleteInOrder() throws Exception {
        connect("");
        TestRdma.FileBlock ram = TestRdma.fileBlock(dir.resolve("dst.ram"), 16 * MIB, arena);
        int region = source.attach(destination.register(ram));
        assertEquals(16 * MIB, source.regionSize(region));
        MemorySegment src = random(16 * MIB, 7);
        long last = 0;
        for (long off = 0; off < 16 * MIB; off += 256 << 10) {
            long id = source.post(region, off, src.asSlice(off, 256 << 10));
            assertEquals(last + 1, id, "ids count up from 1");
            last = id;
        }
        assertEquals(last, source.poll(last, TimeUnit.SECONDS.toNanos(30)));
        assertEquals(-1, MemorySegment.mismatch(src, 0, 16 * MIB, ram.raw(), 0, 16 * MIB),
                "the destination's memory holds the bytes, and its CPU copied nothing");
        assertArrayEquals(Files.readAllBytes(ram.file()), src.toArray(ValueLayout.JAVA_BYTE), "in the shared file too");
    }

    @Test
    void anonymousMemoryCannotBeRegistered() throws Exception {
        connect("");
        IOException e = assertThrows(IOException.class, () -> destination.register(TestRdma.anonymousBlock(MIB, arena)));
        assertTrue(e.getMessage().contains("--mem-path"), e.getMessage());
    }

    @Test
    void aWriteOutsideTheRegionIsRefused() throws Exception {
        connect("");
        int region = source.attach(destination.register(TestRdma.fileBlock(dir.resolve("r.ram"), MIB, arena)));
        MemorySegment page = random(8192, 1);
        assertThrows(IOException.class, () -> source.post(region, MIB - 4096, page));
        assertThrows(IOException.class, () -> source.post(region, -4096, page.asSlice(0, 4096)));
        assertThrows(IOException.class, () -> source.post(region + 1, 0, page));
    }

    @Test
    void aDeregisteredOrDamagedKeyReachesNothing() throws Exception {
        connect("");
        byte[] descriptor = destination.register(TestRdma.fileBlock(dir.resolve("k.ram"), MIB, arena));
        try (Stream keyFiles = new Stream(keys)) {
            assertEquals(1, keyFiles.count(), "one key file while registered");
        }
        byte[] forged = descriptor.clone();
        forged[5] ^= 1; // another key, same key file name
        assertThrows(IOException.class, () -> source.attach(forged));
        assertThrows(IOException.class, () -> source.attach(java.util.Arrays.copyOf(descriptor, 10)));
        destination.close(); // deregisters
        try (Stream keyFiles = new Stream(keys)) {
            assertEquals(0, keyFiles.count(), "no key file after deregistration");
        }
        IOException e = assertThrows(IOException.class, () -> source.attach(descriptor));
        assertTrue(e.getMessage().contains("not registered") || e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void closingTheChannelPutsTheQueuePairInTheErrorState() throws Exception {
        connect(",latency=10s"); // no completion becomes visible before the close
        int region = source.attach(destination.register(TestRdma.fileBlock(dir.resolve("c.ram"), MIB, arena)));
        MemorySegment page = random(4096, 2);
        long id = source.post(region, 0, page);
        assertEquals(0, source.poll(id, 0), "a completion is not visible before the link's latency");
        FutureTask<Long> poller = new FutureTask<>(() -> source.poll(id, TimeUnit.SECONDS.toNanos(60)));
        Thread t = Thread.ofPlatform().name("test-poller").start(poller);
        Thread.sleep(100);
        source.close();
        java.util.concurrent.ExecutionException e =
                assertThrows(java.util.concurrent.ExecutionException.class, () -> poller.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IOException, e.toString());
        t.join();
        assertThrows(IOException.class, () -> source.post(region, 0, page));
        assertThrows(IOException.class, () -> source.poll(id, 0));
    }

    @Test
    void closedQueuePairsLeaveNoThreads() throws Exception {
        for (int i = 0; i < 3; i++) {
            connect("");
            source.attach(destination.register(TestRdma.fileBlock(dir.resolve("t" + i + ".ram"), MIB, arena)));
            source.close();
            destination.close();
            listener.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long alive;
        while ((alive = hcaThreads()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, alive, "HCA threads alive after close");
    }

    private static long hcaThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("rdma-qp") && t.getName().endsWith("-hca") && t.isAlive()).count();
    }

    @Test
    void theLinkBandwidthPacesTheWrites() throws Exception {
        connect(",bandwidth=64M");
        TestRdma.FileBlock ram = TestRdma.fileBlock(dir.resolve("b.ram"), 16 * MIB, arena);
        int region = source.attach(destination.register(ram));
        MemorySegment src = random(16 * MIB, 3);
        long last = 0;
        for (long off = 0; off < 16 * MIB; off += MIB) {
            last = source.post(region, off, src.asSlice(off, MIB));
        }
        assertEquals(last, source.poll(last, TimeUnit.SECONDS.toNanos(30)));
        // The link model's accounting, not the wall clock: each MiB is charged 1/64 s of the link.
        assertEquals(16 * (long) (MIB * 1e9 / (64 * MIB)), ((RdmaChannel) source).queuePair().pacedNanos());
        assertEquals(-1, MemorySegment.mismatch(src, 0, 16 * MIB, ram.raw(), 0, 16 * MIB), "the bytes arrived");
    }

    @Test
    void anUnlimitedLinkChargesNothing() throws Exception {
        connect("");
        int region = source.attach(destination.register(TestRdma.fileBlock(dir.resolve("u.ram"), MIB, arena)));
        long id = source.post(region, 0, random(MIB, 5));
        assertEquals(id, source.poll(id, TimeUnit.SECONDS.toNanos(30)));
        assertEquals(0, ((RdmaChannel) source).queuePair().pacedNanos());
    }

    @Test
    void theSourceLooksKeysUpInItsOwnFolderNotWhereThePeerSays() throws Exception {
        // The destination registers in its folder; a source configured with another folder must not
        // follow the destination there (the old descriptor carried a path the source opened).
        Transport elsewhere = TestRdma.transport(dir.resolve("other-keys"));
        listener = elsewhere.listenIncoming("127.0.0.1:0");
        source = (RemoteMemoryChannel) rdma.connectOutgoing(listener.uri().substring("rdma:".length()));
        destination = (RemoteMemoryChannel) listener.accept();
        TestRdma.FileBlock victim = TestRdma.fileBlock(dir.resolve("victim.ram"), MIB, arena);
        IOException e = assertThrows(IOException.class, () -> source.attach(destination.register(victim)));
        assertTrue(e.getMessage().contains("not registered"), e.getMessage());
    }

    @Test
    void aKeyLinkToAnotherFileOrANonRegularFileIsRefused() throws Exception {
        connect("");
        byte[] descriptor = destination.register(TestRdma.fileBlock(dir.resolve("p.ram"), MIB, arena));
        Path keyFile;
        try (java.util.stream.Stream<Path> files = Files.list(keys)) {
            keyFile = files.findFirst().orElseThrow();
        }
        // Someone replaces the key link by one to a bigger file: writes into its first MiB would damage it.
        Path victim = dir.resolve("victim");
        byte[] before = new byte[2 * (int) MIB];
        java.util.Arrays.fill(before, (byte) 0x5a);
        Files.write(victim, before);
        Files.delete(keyFile);
        Files.createSymbolicLink(keyFile, victim);
        IOException e = assertThrows(IOException.class, () -> source.attach(descriptor));
        assertTrue(e.getMessage().contains("registered as " + MIB), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(victim), "the victim file is untouched");
        // A link to a directory (or a device) is not a regular file.
        Files.delete(keyFile);
        Files.createSymbolicLink(keyFile, dir);
        e = assertThrows(IOException.class, () -> source.attach(descriptor));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void aRamFileOfAnotherSizeThanTheBlockIsNotRegistered() throws Exception {
        connect("");
        TestRdma.FileBlock ram = TestRdma.fileBlock(dir.resolve("s.ram"), 2 * MIB, arena);
        TestRdma.FileBlock half = new TestRdma.FileBlock("pc.ram", 0, ram.raw().asSlice(0, MIB), ram.file());
        IOException e = assertThrows(IOException.class, () -> destination.register(half));
        assertTrue(e.getMessage().contains("exactly"), e.getMessage());
    }

    /** Other users can neither list the keys nor see which RAM files they name: the folder is made 0700. */
    @Test
    void theRegistryFolderIsMadeOwnerOnly() throws Exception {
        connect("");
        destination.register(TestRdma.fileBlock(dir.resolve("o.ram"), MIB, arena));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)));
    }

    /**
     * A folder that another user made first at the registry's name (in the shared /dev/shm) could
     * hide or swap the keys: nothing is registered there. Needs root, to give the folder away.
     */
    @Test
    void aRegistryFolderOfAnotherUserIsRefused() throws Exception {
        Assumptions.assumeTrue(PrivateFiles.ownUid().orElse(-1) == 0, "needs root to make a folder of another user");
        Files.createDirectory(keys);
        Files.setOwner(keys, keys.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        connect("");
        IOException e = assertThrows(IOException.class,
                () -> destination.register(TestRdma.fileBlock(dir.resolve("n.ram"), MIB, arena)));
        assertTrue(e.getMessage().contains("belongs to another user"), e.getMessage());
        try (java.util.stream.Stream<Path> files = Files.list(keys)) {
            assertEquals(0, files.count(), "a key published in the other user's folder");
        }
    }

    /** The default folder is this user's own, not the shared /dev/shm where every user can list and remove keys. */
    @Test
    void theDefaultRegistryFolderIsPerUser() {
        Path folder = RdmaTransport.defaultFolder();
        assertEquals("godwit-rdma-" + PrivateFiles.ownUid().orElseThrow(), folder.getFileName().toString());
    }

    @Test
    void keyFilesOfDestinationsThatAreGoneAreRemovedAtStart() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertEquals(0, p.waitFor());
        long dead = p.pid();
        Files.createDirectories(keys);
        Path stale = keys.resolve(RegionDescriptor.keyFileName(dead, 1));
        Path live = keys.resolve(RegionDescriptor.keyFileName(ProcessHandle.current().pid(), 2));
        Files.createSymbolicLink(stale, dir.resolve("gone.ram"));
        Files.createSymbolicLink(live, dir.resolve("here.ram"));
        TestRdma.transport(keys); // a transport starting
        assertFalse(Files.exists(stale, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the dead destination's key");
        assertTrue(Files.exists(live, java.nio.file.LinkOption.NOFOLLOW_LINKS), "a live process's key stays");
    }

    @Test
    void theDestinationsLinkModelCountsToo() throws Exception {
        listener = rdma.listenIncoming("127.0.0.1:0,latency=10s");
        source = (RemoteMemoryChannel) rdma.connectOutgoing(listener.uri().substring("rdma:".length()));
        destination = (RemoteMemoryChannel) listener.accept();
        int region = source.attach(destination.register(TestRdma.fileBlock(dir.resolve("l.ram"), MIB, arena)));
        long id = source.post(region, 0, random(4096, 4));
        assertEquals(0, source.poll(id, 0), "the destination's 10 s latency applies to the source's writes");
    }

    @Test
    void addressesAndOptionsParseOrSayWhy() {
        RdmaAddress a = RdmaAddress.parse("127.0.0.1:4444,bandwidth=1G,latency=50us");
        assertEquals(4444, a.port());
        assertEquals(1L << 30, a.link().bytesPerSecond());
        assertEquals(50_000, a.link().latencyNanos());
        assertEquals("rdma:[::1]:5", RdmaAddress.parse("[::1]:5").toString());
        for (String bad : new String[] {"nohost", "h:99999", "h:1,color=red", "h:1,latency=5", "h:1,bandwidth=x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RdmaAddress.parse(bad));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> rdma.connectOutgoing("127.0.0.1:0"));
        LinkModel both = new LinkModel(100, 5).combine(new LinkModel(50, 1));
        assertEquals(new LinkModel(50, 5), both);
        assertEquals(new LinkModel(7, 0), LinkModel.UNLIMITED.combine(new LinkModel(7, 0)));
    }

    @Test
    void aPeerThatIsNotRdmaIsRefused() throws Exception {
        try (java.nio.channels.ServerSocketChannel tcp = java.nio.channels.ServerSocketChannel.open()) {
            tcp.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            int port = ((java.net.InetSocketAddress) tcp.getLocalAddress()).getPort();
            source = (RemoteMemoryChannel) rdma.connectOutgoing("127.0.0.1:" + port);
            try (java.nio.channels.SocketChannel peer = tcp.accept()) {
                peer.write(java.nio.ByteBuffer.wrap("GDWT not a handshake of rdma".getBytes()));
                IOException e = assertThrows(IOException.class, () -> source.read(java.nio.ByteBuffer.allocate(8)));
                assertTrue(e.getMessage().contains("not an rdma transport"), e.getMessage());
            }
        }
    }

    /** The key files in a folder, closed after use. */
    private static final class Stream implements AutoCloseable {
        private final java.util.stream.Stream<Path> files;

        Stream(Path folder) throws IOException {
            files = Files.exists(folder) ? Files.list(folder) : java.util.stream.Stream.empty();
        }

        long count() {
            return files.count();
        }

        @Override
        public void close() {
            files.close();
        }
    }
}
