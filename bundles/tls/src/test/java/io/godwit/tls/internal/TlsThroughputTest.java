package io.godwit.tls.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a check: TLS against plain tcp on 127.0.0.1, the sender writing 1 MiB gathering
 * writes of 256 x 4 KiB slices of a pre-faulted arena (as guest RAM is), the receiver reading 1 MiB at
 * a time. {@code mvn -o -pl bundles/tls -am verify -DskipITs -Dgodwit.throughput=true
 * -Dtest=TlsThroughputTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "godwit.throughput", matches = "true")
class TlsThroughputTest {

    private static final int PAGE = 4096;
    private static final long RAM = 256L << 20;
    private static final int NET_BYTES = 256 << 10;
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Pre-faulted memory as guest RAM is, not zeros. */
    private static MemorySegment ram(Arena arena) {
        MemorySegment ram = arena.allocate(RAM, PAGE);
        for (long i = 0; i < RAM; i += 8) {
            ram.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L);
        }
        return ram;
    }

    /** The batch's page slices for the bytes from {@code sent} on, wrapping around RAM. */
    private static void slices(MemorySegment ram, long sent, ByteBuffer[] batch) {
        long first = sent % RAM;
        for (int i = 0; i < batch.length; i++) {
            batch[i] = ram.asSlice(first + (long) i * PAGE, PAGE).asByteBuffer();
        }
    }

    /** A CA, {@code server/} (for 127.0.0.1) and {@code client/}, as tls-creds-x509 reads them. */
    private static Path pki() throws Exception {
        Path pki = Files.createTempDirectory("godwit-tls-probe");
        TestPki.serverAndClient(pki);
        return pki;
    }

    /**
     * The floor under any TLS record layer on this JDK: AES-128-GCM alone, as {@link Tls13Records} calls
     * it (a {@code Cipher.init} per 16 KiB record, array to array). Records are sealed from a 256 MiB
     * array (out of cache, as guest RAM is) into a 256 KiB buffer, as the sender's, and opened from there
     * (in cache, as the receiver's socket buffer is); CPU seconds per GiB of each, on one thread. Both ends
     * of a migration pay one of each per byte; on loopback both on the same cores.
     */
    @Test
    void aesGcmAlonePerCore() throws Exception {
        javax.crypto.spec.SecretKeySpec key = new javax.crypto.spec.SecretKeySpec(new byte[16], "AES");
        javax.crypto.Cipher seal = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        javax.crypto.Cipher open = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        int record = Tls13Records.MAX_PLAIN;
        int perBatch = NET_BYTES / (record + 16);
        byte[] plain = new byte[(int) RAM];
        new java.util.Random(15).nextBytes(plain);
        byte[] sealed = new byte[NET_BYTES];
        byte[] opened = new byte[record];
        byte[] header = new byte[5];
        double gib = (double) RAM / (1L << 30);
        List<Double> seals = new ArrayList<>();
        List<Double> opens = new ArrayList<>();
        for (int round = 0; round < 20; round++) {
            long sealNs = 0;
            long openNs = 0;
            for (int first = 0; first < RAM / record; first += perBatch) {
                long t0 = THREADS.getCurrentThreadCpuTime();
                for (int i = 0; i < perBatch; i++) {
                    seal.init(javax.crypto.Cipher.ENCRYPT_MODE, key, nonce(round, first + i));
                    seal.updateAAD(header);
                    seal.doFinal(plain, (first + i) % (int) (RAM / record) * record, record, sealed, i * (record + 16));
                }
                long t1 = THREADS.getCurrentThreadCpuTime();
                for (int i = 0; i < perBatch; i++) {
                    open.init(javax.crypto.Cipher.DECRYPT_MODE, key, nonce(round, first + i));
                    open.updateAAD(header);
                    open.doFinal(sealed, i * (record + 16), record + 16, opened, 0);
                }
                openNs += THREADS.getCurrentThreadCpuTime() - t1;
                sealNs += t1 - t0;
            }
            if (round >= 6) { // the first rounds run before the compiler is done with AES-GCM
                seals.add(sealNs / 1e9 / gib);
                opens.add(openNs / 1e9 / gib);
            }
        }
        System.out.printf("AES-128-GCM alone, 16 KiB records from %d MiB, n=%d:%n", RAM >> 20, seals.size());
        print("seal", seals, "CPU s per GiB");
        print("open", opens, "CPU s per GiB");
    }

    private static javax.crypto.spec.GCMParameterSpec nonce(int round, int record) {
        return new javax.crypto.spec.GCMParameterSpec(128, ByteBuffer.allocate(12).putInt(4, round).putInt(8, record).array());
    }

    /**
     * Where the time goes, without sockets or a second thread: one engine pair in memory, the client
     * wrapping 1 MiB batches of 256 page slices (as the migration's writes are) into a 256 KiB heap
     * buffer, the server unwrapping them into a 1 MiB direct buffer, each timed apart, per cipher suite.
     * What one core does per second; the migration's sender and receiver each need one.
     */
    @Test
    void engineWrapAndUnwrapPerCore() throws Exception {
        Path pki = pki();
        X509Credentials server = X509Credentials.load(ObjectSpec.parse("tls-creds-x509,id=s,endpoint=server,dir=" + pki.resolve("server")));
        X509Credentials client = X509Credentials.load(ObjectSpec.parse("tls-creds-x509,id=c,endpoint=client,dir=" + pki.resolve("client")));
        long bytes = Long.getLong("godwit.throughput.mib", 1024) << 20;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ram = ram(arena);
            // AES-128 and AES-256 alternate, so neither gains by the compiler having had longer
            String[] suites = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};
            for (int round = 0; round < suites.length; round++) {
                String suite = suites[round];
                SSLEngine c = client.engine("127.0.0.1");
                SSLEngine s = server.engine(null);
                c.setEnabledCipherSuites(new String[] {suite});
                handshake(c, s);
                ByteBuffer net = ByteBuffer.allocate(NET_BYTES);
                ByteBuffer app = ByteBuffer.allocateDirect(1 << 20);
                ByteBuffer[] batch = new ByteBuffer[256];
                long wrapNs = 0;
                long unwrapNs = 0;
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                long wallStart = System.nanoTime();
                for (long sent = 0; sent < bytes; sent += batch.length * PAGE) {
                    slices(ram, sent, batch);
                    long left = (long) batch.length * PAGE;
                    while (left > 0) {
                        net.clear();
                        long t0 = System.nanoTime();
                        while (left > 0 && net.remaining() >= c.getSession().getPacketBufferSize()) {
                            SSLEngineResult r = c.wrap(batch, net);
                            if (r.bytesProduced() == 0) {
                                throw new AssertionError("wrap: " + r);
                            }
                            left -= r.bytesConsumed();
                        }
                        long t1 = System.nanoTime();
                        net.flip();
                        while (net.hasRemaining()) {
                            if (s.unwrap(net, app.clear()).getStatus() != SSLEngineResult.Status.OK) {
                                throw new AssertionError("unwrap: " + s.unwrap(net, app));
                            }
                        }
                        unwrapNs += System.nanoTime() - t1;
                        wrapNs += t1 - t0;
                    }
                }
                // Under load the wall clock runs on while this thread waits for a core: the CPU time says
                // how much of each interval was work, and scales both.
                double busy = (double) (THREADS.getCurrentThreadCpuTime() - cpuStart) / (System.nanoTime() - wallStart);
                System.out.printf("  %-28s wrap %5.2f GiB/s, unwrap %5.2f GiB/s per CPU second (%d MiB, engines in memory,"
                        + " thread on a core %.0f %% of the time)%s%n", c.getSession().getCipherSuite(),
                        bytes / (wrapNs * busy / 1e9) / (1L << 30), bytes / (unwrapNs * busy / 1e9) / (1L << 30), bytes >> 20,
                        100 * busy, round < 2 ? " (warm-up)" : "");
            }
        }
    }

    /** Both engines' handshake, a step of each in turn, through a buffer each way; the engines' tasks on this thread. */
    private static void handshake(SSLEngine c, SSLEngine s) throws Exception {
        ByteBuffer toServer = ByteBuffer.allocate(NET_BYTES);
        ByteBuffer toClient = ByteBuffer.allocate(NET_BYTES);
        c.beginHandshake();
        s.beginHandshake();
        for (int i = 0; i < 1000 && !(done(c) && done(s) && toServer.position() == 0 && toClient.position() == 0); i++) {
            step(c, toServer, toClient);
            step(s, toClient, toServer);
        }
        if (!(done(c) && done(s))) {
            throw new AssertionError("handshake in memory did not finish: " + c.getHandshakeStatus() + " / " + s.getHandshakeStatus());
        }
    }

    /** One step of one engine: a task, a wrap into {@code out}, or an unwrap from {@code in} (both in fill mode). */
    private static void step(SSLEngine e, ByteBuffer out, ByteBuffer in) throws Exception {
        switch (e.getHandshakeStatus()) {
            case NEED_TASK -> {
                for (Runnable t; (t = e.getDelegatedTask()) != null; ) {
                    t.run();
                }
            }
            case NEED_WRAP -> e.wrap(ByteBuffer.allocate(0), out);
            default -> {
                if (in.position() > 0) {
                    in.flip();
                    e.unwrap(in, ByteBuffer.allocate(1 << 17));
                    in.compact();
                }
            }
        }
    }

    private static boolean done(SSLEngine e) {
        return e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    @Test
    void tlsAgainstPlainOver127001() throws Exception {
        Path pki = pki();
        TlsObjects tls = new TlsObjects();
        tls.add("tls-creds-x509,id=s,endpoint=server,dir=" + pki.resolve("server"));
        tls.add("tls-creds-x509,id=c,endpoint=client,dir=" + pki.resolve("client"));
        Transport tcp = TlsMigrationTest.tcp();
        long bytes = Long.getLong("godwit.throughput.mib", 1024) << 20;
        int reps = Integer.getInteger("godwit.throughput.reps", 5);
        // plain, TLS with the engine's records, TLS with Tls13Records: alternating, so load hits all three alike
        String[] names = {"plain", "TLS, engine's records", "TLS, Godwit's records"};
        List<List<Double>> rates = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        List<List<Double>> cpus = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>()); // sender, receiver alternately
        String[] session = new String[1];
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ram = ram(arena);
            for (int warm = 0; warm < 2; warm++) {
                once(tcp, null, ram, RAM, session, new ArrayList<>());
                tls.ownRecords = warm == 0;
                once(tcp, tls, ram, RAM, session, new ArrayList<>());
            }
            for (int r = 0; r < reps; r++) {
                for (int way = 0; way < 3; way++) {
                    tls.ownRecords = way == 2;
                    rates.get(way).add(once(tcp, way == 0 ? null : tls, ram, bytes, session, cpus.get(way)));
                }
            }
        }
        System.out.printf("tcp 127.0.0.1, %d MiB per run, n=%d (%s)%n", bytes >> 20, reps, session[0]);
        for (int way = 0; way < 3; way++) {
            print(names[way], rates.get(way));
            cpu(names[way], cpus.get(way));
        }
        for (int way = 1; way < 3; way++) {
            double[] ratios = new double[reps];
            for (int i = 0; i < reps; i++) {
                ratios[i] = rates.get(way).get(i) / rates.get(0).get(i);
            }
            Arrays.sort(ratios);
            System.out.printf("  %s / plain per round: median %.2f [%.2f..%.2f]%n", names[way], ratios[reps / 2], ratios[0],
                    ratios[reps - 1]);
        }
    }

    private static void print(String name, List<Double> gibs) {
        print(name, gibs, "GiB/s");
    }

    private static void print(String name, List<Double> values, String unit) {
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        System.out.printf("  %-22s %5.3f %s [%.3f..%.3f]%n", name, s[s.length / 2], unit, s[0], s[s.length - 1]);
    }

    /** The threads' own CPU time, which the machine's load does not inflate as it does the wall clock. */
    private static void cpu(String name, List<Double> perGib) {
        double[] send = new double[perGib.size() / 2];
        double[] receive = new double[perGib.size() / 2];
        for (int i = 0; i < send.length; i++) {
            send[i] = perGib.get(2 * i);
            receive[i] = perGib.get(2 * i + 1);
        }
        Arrays.sort(send);
        Arrays.sort(receive);
        System.out.printf("  %-22s CPU s per GiB: sender %.2f [%.2f..%.2f], receiver %.2f [%.2f..%.2f]%n", name, send[send.length / 2],
                send[0], send[send.length - 1], receive[receive.length / 2], receive[0], receive[receive.length - 1]);
    }

    private static double once(Transport tcp, TlsObjects tls, MemorySegment ram, long bytes, String[] session, List<Double> cpu)
            throws Exception {
        try (IncomingListener listener = tcp.listenIncoming("127.0.0.1:0")) {
            MigrationChannel plainOut = tcp.connectOutgoing(listener.uri().substring(4));
            MigrationChannel out = plainOut;
            MigrationChannel in = listener.accept();
            if (tls != null) {
                CompletableFuture<MigrationChannel> client = CompletableFuture.supplyAsync(() -> {
                    try {
                        return tls.client(plainOut, "c", "127.0.0.1");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                in = tls.server(in, "s", null);
                out = client.get(30, TimeUnit.SECONDS);
                session[0] = ((io.godwit.api.tls.TlsChannel) out).describe();
            }
            MigrationChannel source = out;
            MigrationChannel destination = in;
            try (source; destination) {
                long[] receiverCpu = new long[1];
                FutureTask<Long> receiver = new FutureTask<>(() -> {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
                    long got = 0;
                    long cpu0 = THREADS.getCurrentThreadCpuTime();
                    for (int n; (n = destination.read(buffer.clear())) >= 0; ) {
                        got += n;
                    }
                    receiverCpu[0] = THREADS.getCurrentThreadCpuTime() - cpu0;
                    return got;
                });
                Thread.ofPlatform().name("probe-receiver").daemon().start(receiver);
                ByteBuffer[] batch = new ByteBuffer[256];
                long start = System.nanoTime();
                long cpu0 = THREADS.getCurrentThreadCpuTime();
                for (long sent = 0; sent < bytes; sent += batch.length * PAGE) {
                    slices(ram, sent, batch);
                    source.write(batch);
                }
                source.shutdownOutput();
                long senderCpu = THREADS.getCurrentThreadCpuTime() - cpu0;
                long got = receiver.get(120, TimeUnit.SECONDS);
                double gib = (double) bytes / (1L << 30);
                cpu.add(senderCpu / 1e9 / gib);
                cpu.add(receiverCpu[0] / 1e9 / gib);
                if (got != bytes) {
                    throw new AssertionError("received " + got + " of " + bytes);
                }
                return bytes / ((System.nanoTime() - start) / 1e9) / (1L << 30);
            }
        }
    }
}
