package io.godwit.transport.socket.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

/**
 * Raw channel throughput between two threads of one JVM: the sender writes 1 MiB per call as a
 * gathering write of 256 x 4 KiB direct buffers (slices of a pre-faulted 256 MiB shared arena, as
 * guest RAM is); the receiver reads 1 MiB at a time into a direct buffer and drops it.
 */
public final class ThroughputProbe {

    private static final int PAGE = 4096;
    private static final long RAM = 256L << 20;

    private ThroughputProbe() {}

    /** Runs each variant {@code reps} times, interleaved, and prints GiB/s median [min..max]. */
    public static void compare(String title, Map<String, Transport> variants, String listenAddress,
            long bytesPerRun, int reps) throws Exception {
        Map<String, List<Double>> results = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment ram = arena.allocate(RAM, PAGE);
            ram.fill((byte) 0x5a); // pre-fault
            ByteBuffer[] pages = new ByteBuffer[(int) (RAM / PAGE)];
            for (int i = 0; i < pages.length; i++) {
                pages[i] = ram.asSlice((long) i * PAGE, PAGE).asByteBuffer();
            }
            for (Map.Entry<String, Transport> v : variants.entrySet()) {
                once(v.getValue(), listenAddress, pages, RAM); // warm-up
                results.put(v.getKey(), new ArrayList<>());
            }
            for (int r = 0; r < reps; r++) {
                for (Map.Entry<String, Transport> v : variants.entrySet()) {
                    results.get(v.getKey()).add(once(v.getValue(), listenAddress, pages, bytesPerRun));
                }
            }
        }
        System.out.printf("%s (%d MiB per run, n=%d)%n", title, bytesPerRun >> 20, reps);
        results.forEach((name, gibs) -> {
            double[] s = gibs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("  %-28s %5.2f GiB/s [%.2f..%.2f]  %s%n", name, s[s.length / 2], s[0],
                    s[s.length - 1], Arrays.toString(gibs.stream().map(g -> String.format("%.2f", g)).toArray()));
        });
    }

    private static double once(Transport transport, String listenAddress, ByteBuffer[] pages, long bytes)
            throws Exception {
        try (IncomingListener listener = transport.listenIncoming(listenAddress);
                MigrationChannel source = transport.connectOutgoing(listener.uri().substring(listener.uri().indexOf(':') + 1));
                MigrationChannel destination = listener.accept()) {
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
                int first = (int) ((sent / PAGE) % pages.length);
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = pages[first + i].clear();
                }
                source.write(batch);
            }
            source.shutdownOutput();
            long got = receiver.get(60, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (got != bytes) {
                throw new AssertionError("received " + got + " of " + bytes);
            }
            return bytes / seconds / (1L << 30);
        }
    }
}
