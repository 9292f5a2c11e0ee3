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

    @Test
    void tlsAgainstPlainOver127001() throws Exception {
        Path pki = Files.createTempDirectory("godwit-tls-probe");
        TestPki p = new TestPki(pki);
        Path ca = p.ca("ca");
        p.leaf(ca, pki.resolve("server"), "server", "/O=Godwit/CN=server", "IP:127.0.0.1", TestPki.dayAgo(), TestPki.dayAhead(), false);
        p.leaf(ca, pki.resolve("client"), "client", "/O=Godwit/CN=client", null, TestPki.dayAgo(), TestPki.dayAhead(), false);
        TestPki.trust(ca, pki.resolve("server"));
        TestPki.trust(ca, pki.resolve("client"));
        TlsObjects tls = new TlsObjects();
        tls.add("tls-creds-x509,id=s,endpoint=server,dir=" + pki.resolve("server"));
        tls.add("tls-creds-x509,id=c,endpoint=client,dir=" + pki.resolve("client"));
        Transport tcp = TlsMigrationTest.tcp();
        long bytes = Long.getLong("godwit.throughput.mib", 1024) << 20;
        int reps = Integer.getInteger("godwit.throughput.reps", 5);
        List<Double> plain = new ArrayList<>();
        List<Double> secured = new ArrayList<>();
        String[] session = new String[1];
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ram = arena.allocate(RAM, PAGE);
            for (long i = 0; i < RAM; i += 8) {
                ram.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L); // not zeros
            }
            once(tcp, null, ram, RAM, session); // warm-up
            once(tcp, tls, ram, RAM, session);
            for (int r = 0; r < reps; r++) {
                plain.add(once(tcp, null, ram, bytes, session));
                secured.add(once(tcp, tls, ram, bytes, session));
            }
        }
        System.out.printf("tcp 127.0.0.1, %d MiB per run, n=%d (%s)%n", bytes >> 20, reps, session[0]);
        print("plain", plain);
        print("TLS", secured);
        double[] ratios = new double[reps];
        for (int i = 0; i < reps; i++) {
            ratios[i] = secured.get(i) / plain.get(i);
        }
        Arrays.sort(ratios);
        System.out.printf("  TLS/plain per pair: median %.2f [%.2f..%.2f]%n", ratios[reps / 2], ratios[0], ratios[reps - 1]);
    }

    private static void print(String name, List<Double> gibs) {
        double[] s = gibs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        System.out.printf("  %-6s %5.2f GiB/s [%.2f..%.2f]%n", name, s[s.length / 2], s[0], s[s.length - 1]);
    }

    private static double once(Transport tcp, TlsObjects tls, MemorySegment ram, long bytes, String[] session) throws Exception {
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
                FutureTask<Long> receiver = new FutureTask<>(() -> {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
                    long got = 0;
                    for (int n; (n = destination.read(buffer.clear())) >= 0; ) {
                        got += n;
                    }
                    return got;
                });
                Thread.ofPlatform().name("probe-receiver").daemon().start(receiver);
                ByteBuffer[] batch = new ByteBuffer[256];
                long start = System.nanoTime();
                for (long sent = 0; sent < bytes; sent += batch.length * PAGE) {
                    long first = sent % RAM;
                    for (int i = 0; i < batch.length; i++) {
                        batch[i] = ram.asSlice(first + (long) i * PAGE, PAGE).asByteBuffer();
                    }
                    source.write(batch);
                }
                source.shutdownOutput();
                long got = receiver.get(120, TimeUnit.SECONDS);
                if (got != bytes) {
                    throw new AssertionError("received " + got + " of " + bytes);
                }
                return bytes / ((System.nanoTime() - start) / 1e9) / (1L << 30);
            }
        }
    }
}
