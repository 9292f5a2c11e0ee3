package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * VMs come and go on two host processes and leave nothing behind. Each cycle, in turn from A to B and
 * from B to A: the destination is created listening on its host's fixed port ({@code vm_create
 * --incoming tcp:127.0.0.1:PORT}), the source is created and migrated there, the destination's oracle
 * checks every page, both VMs are destroyed; then a destination is created on the same port and
 * destroyed while it waits: its {@code mig-guest-in} thread must be gone and the port must refuse
 * connections within 1 s (the next cycle listens on that port again).
 *
 * <p>At cycles 0 (after one warm-up cycle), 10, 50, 100 and the last, each host's heap after a full GC
 * ({@code jcmd GC.run}, {@code GC.heap_info}), direct and other native buffers (NMT's "Other"), threads
 * ({@code /proc/PID/status}) and open descriptors ({@code /proc/PID/fd}) are measured and printed.
 * The suite runs 10 cycles and asserts that threads and descriptors did not grow beyond a small
 * tolerance; {@code -Dgodwit.lifecycle.cycles=100} is the measurement of issue 17 (about 2 minutes).
 */
@Timeout(900)
class LifecycleIT {

    private static final String GUEST = "--memory 32M --vcpus 1 --workload sweep:8M";
    private static final int CYCLES = Integer.getInteger("godwit.lifecycle.cycles", 10);
    private static final List<Integer> CHECKPOINTS = List.of(0, 10, 50, 100);
    /** Threads or descriptors a host may gain over the run without a leak (JIT and GC threads come and go). */
    private static final int TOLERANCE = 3;
    private static final Pattern LISTENING = Pattern.compile("listening on tcp:127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern CLEAN = Pattern.compile("(?m)^bad pages:\\s+0$");
    private static final Pattern HEAP_USED = Pattern.compile("total reserved \\d+K, committed \\d+K, used (\\d+)K");
    private static final Pattern NMT_OTHER = Pattern.compile("-\\s+Other \\(reserved=\\d+KB, committed=(\\d+)KB\\)");

    private final List<HostProcess> hosts = new ArrayList<>();
    private final Map<HostProcess, Integer> ports = new LinkedHashMap<>();
    private Path home;
    private Path dir;
    private volatile boolean failed;

    @RegisterExtension
    final AfterTestExecutionCallback watcher = context -> failed = context.getExecutionException().isPresent();

    @BeforeEach
    void setUp() throws IOException {
        home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        assertTrue(Files.isExecutable(home.resolve("bin/godwit")), "no host home at " + home);
        dir = Files.createTempDirectory(Path.of("/tmp"), "godwit-lifecycle-");
    }

    @AfterEach
    void tearDown() throws Exception {
        boolean clean = true;
        for (HostProcess host : hosts) {
            clean &= host.stop();
        }
        if (failed || !clean) {
            System.out.println("LifecycleIT: the hosts' files are kept in " + dir);
        } else {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        assertTrue(clean, "a host needed SIGKILL after SIGTERM");
    }

    /** The host's state as the issue measures it. */
    record Sample(int cycle, long heapKib, long otherNativeKib, int threads, int fds) {}

    @Test
    void createMigrateDestroyCyclesLeaveHeapThreadsAndDescriptorsFlat() throws Exception {
        for (String name : List.of("a", "b")) {
            hosts.add(HostProcess.start(home, dir, name, "-XX:NativeMemoryTracking=summary"));
        }
        for (HostProcess host : hosts) {
            host.awaitReady(Duration.ofSeconds(60));
            ports.put(host, listenOnAnyPortAndDestroy(host));
        }
        cycle(0); // warm-up: the first migration loads classes and activates components once
        Map<HostProcess, List<Sample>> samples = new LinkedHashMap<>();
        hosts.forEach(h -> samples.put(h, new ArrayList<>()));
        TreeSet<Integer> at = new TreeSet<>(CHECKPOINTS.stream().filter(c -> c <= CYCLES).toList());
        at.add(CYCLES);
        long t0 = System.nanoTime();
        for (int cycle = 0; cycle <= CYCLES; cycle++) {
            if (at.contains(cycle)) {
                for (HostProcess host : hosts) {
                    samples.get(host).add(sample(host, cycle));
                }
            }
            if (cycle < CYCLES) {
                cycle(cycle + 1);
            }
        }
        long seconds = (System.nanoTime() - t0) / 1_000_000_000;
        StringBuilder table = new StringBuilder(String.format("LifecycleIT: %d create/migrate/destroy cycles in %d s%n"
                + "host  cycle  heap after GC  other native  threads  fds%n", CYCLES, seconds));
        samples.forEach((host, list) -> list.forEach(s -> table.append(String.format("%-4s  %5d  %9d KiB  %8d KiB  %7d  %3d%n",
                host.name(), s.cycle(), s.heapKib(), s.otherNativeKib(), s.threads(), s.fds()))));
        System.out.print(table);
        for (List<Sample> list : samples.values()) {
            Sample first = list.getFirst();
            Sample last = list.getLast();
            assertTrue(last.threads() - first.threads() <= TOLERANCE, "threads grew\n" + table);
            assertTrue(last.fds() - first.fds() <= TOLERANCE, "descriptors grew\n" + table);
        }
    }

    /** One cycle: a live migration checked by the oracle, both VMs destroyed, then a waiting destination destroyed. */
    private void cycle(int n) throws Exception {
        HostProcess source = hosts.get(n % 2);
        HostProcess destination = hosts.get(1 - n % 2);
        int port = ports.get(destination);
        String uri = "tcp:127.0.0.1:" + port;
        destination.run("vm_create guest " + GUEST + " --incoming " + uri).ok();
        source.run("vm_create guest " + GUEST).ok();
        String migrated = source.run("migrate guest " + uri).ok().out();
        assertTrue(migrated.contains("Migration status: completed"), "cycle " + n + ":\n" + migrated);
        HostProcess.Result check = destination.run("stop; vm_check guest").ok();
        assertTrue(CLEAN.matcher(check.out()).find(), "cycle " + n + ": vm_check did not report 0 bad pages\n" + check);
        source.run("vm_destroy guest").ok();
        destination.run("vm_destroy guest").ok();

        destination.run("vm_create guest " + GUEST + " --incoming " + uri).ok();
        awaitThread(destination, "mig-guest-in", "cycle " + n);
        destination.run("vm_destroy guest").ok();
        assertDestinationGone(destination, port, "cycle " + n);
    }

    /** Picks a free port for the host's destinations: listens on port 0, then destroys that VM. */
    private static int listenOnAnyPortAndDestroy(HostProcess host) throws Exception {
        HostProcess.Result created = host.run("vm_create guest " + GUEST + " --incoming tcp:127.0.0.1:0").ok();
        Matcher m = LISTENING.matcher(created.out());
        if (!m.find()) {
            fail("vm_create --incoming did not say where it listens\n" + created);
        }
        int port = Integer.parseInt(m.group(1));
        host.run("vm_destroy guest").ok();
        assertDestinationGone(host, port, "the first destination of " + host.name());
        return port;
    }

    /** Within 1 s of vm_destroy: the incoming thread is gone and the port refuses connections. */
    private static void assertDestinationGone(HostProcess host, int port, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (threadNames(host).contains("mig-guest-in") || accepts(port)) {
            if (System.nanoTime() > deadline) {
                fail(what + ": 1 s after vm_destroy, " + (accepts(port) ? "port " + port + " still accepts"
                        : "mig-guest-in still runs") + "\n" + host.diagnostics());
            }
            Thread.sleep(20);
        }
    }

    /** A thread names itself for the kernel once it runs, a moment after the command that started it returned. */
    private static void awaitThread(HostProcess host, String name, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!threadNames(host).contains(name)) {
            if (System.nanoTime() > deadline) {
                fail(what + ": no thread " + name + " on " + host + "\n" + host.diagnostics());
            }
            Thread.sleep(10);
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    /** The host's thread names as the kernel knows them ({@code /proc/PID/task/TID/comm}, 15 characters). */
    private static List<String> threadNames(HostProcess host) throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(host.pid()), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    names.add(Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).strip());
                } catch (IOException ended) {
                    // the thread ended while we listed them
                }
            }
        }
        return names;
    }

    private static Sample sample(HostProcess host, int cycle) throws Exception {
        jcmd(host, "GC.run");
        long heap = number(HEAP_USED, jcmd(host, "GC.heap_info"), "GC.heap_info");
        long other = number(NMT_OTHER, jcmd(host, "VM.native_memory", "summary"), "VM.native_memory");
        Path proc = Path.of("/proc", Long.toString(host.pid()));
        int threads = Integer.parseInt(Files.readAllLines(proc.resolve("status")).stream()
                .filter(l -> l.startsWith("Threads:")).findFirst().orElseThrow().split("\\s+")[1]);
        int fds;
        try (Stream<Path> list = Files.list(proc.resolve("fd"))) {
            fds = (int) list.count();
        }
        return new Sample(cycle, heap, other, threads, fds);
    }

    private static long number(Pattern p, String text, String what) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            fail(what + " printed no figure:\n" + text);
        }
        return Long.parseLong(m.group(1));
    }

    /** Runs the JDK's jcmd against the host (the test's own JDK 25, which the hosts run on too). */
    private static String jcmd(HostProcess host, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(host.pid())));
        args.addAll(List.of(command));
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("jcmd " + String.join(" ", command) + " did not end within 30 s");
        }
        assertEquals(0, p.exitValue(), "jcmd " + String.join(" ", command) + ":\n" + out);
        return out;
    }
}
