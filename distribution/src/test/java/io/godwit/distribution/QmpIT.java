package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * QMP between two host processes, driven by a client that shares no code with the server: the Python
 * example (examples/qmp/migrate.py, standard library only). It first probes the source's failure paths
 * (a command before qmp_capabilities, an unknown command, a missing and a wrong-typed argument, garbage,
 * a huge line, clients that close mid-command), then drives a whole live migration of a rate-limited
 * sweep guest: capabilities and parameters on both sides, migrate-incoming, migrate, the MIGRATION
 * completed event, query-migrate, and the destination's oracle through human-monitor-command. The
 * oracle is checked once more through the destination's monitor, and both hosts must be alive.
 */
@Timeout(300)
class QmpIT {

    private static final String GUEST = "--memory 64M --vcpus 2 --workload sweep:rate=5000";
    private static final Duration PYTHON_TIMEOUT = Duration.ofSeconds(120);

    private final List<HostProcess> hosts = new ArrayList<>();
    private Path home;
    private Path dir;
    private Path example;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(python3Runs(), "python3 is not installed: the QMP example cannot run (apt-get install python3)");
        home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        example = Path.of(System.getProperty("godwit.example.qmp", "../examples/qmp/migrate.py")).toAbsolutePath();
        assertTrue(Files.isExecutable(home.resolve("bin/godwit")), "no host home at " + home);
        assertTrue(Files.isRegularFile(example), "no QMP example at " + example);
        dir = Files.createTempDirectory(Path.of("/tmp"), "godwit-qmp-");
    }

    @AfterEach
    void tearDown() throws Exception {
        boolean clean = true;
        for (HostProcess host : hosts) {
            clean &= host.stop();
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        assertTrue(clean, "a host needed SIGKILL after SIGTERM");
    }

    @Test
    void thePythonExampleDrivesALiveMigrationAndItsFailurePathsHurtNothing() throws Exception {
        HostProcess a = HostProcess.start(home, dir, "a");
        HostProcess b = HostProcess.start(home, dir, "b");
        hosts.add(a);
        hosts.add(b);
        a.awaitReady(Duration.ofSeconds(60));
        b.awaitReady(Duration.ofSeconds(60));
        String srcQmp = "unix:" + dir.resolve("a.qmp");
        String dstQmp = "unix:" + dir.resolve("b.qmp");
        a.run("vm_create g " + GUEST + " --qmp " + srcQmp).ok();
        b.run("vm_create g " + GUEST + " --incoming defer").ok();
        assertTrue(b.run("qmp_add g " + dstQmp).ok().out().contains("QMP on " + dstQmp));
        assertTrue(b.run("info vms").ok().out().contains(dstQmp));

        Python probe = python("probe", "--qmp", srcQmp);
        assertEquals(0, probe.exit(), probe.toString());
        assertTrue(probe.out().contains("ok   huge line"), probe.toString());
        assertTrue(a.run("info status g").ok().out().contains("running"), "the probes left the guest running");

        Python migrate = python("migrate", "--source", srcQmp, "--destination", dstQmp,
                "--uri", "unix:" + dir.resolve("mig.sock"), "--downtime-limit", "300",
                "--max-bandwidth", "1000000000", "--capability", "verify-ram=on", "--check");
        assertEquals(0, migrate.exit(), migrate.toString());
        assertTrue(migrate.out().contains("migration completed"), migrate.toString());
        assertTrue(migrate.out().contains("\"status\": \"completed\""), migrate.toString());
        assertTrue(migrate.out().contains("\"downtime-limit\": 300"), migrate.toString());
        assertTrue(migrate.out().contains("bad pages:     0\n"), migrate.toString());

        String check = b.run("vm_check g").ok().out();
        assertTrue(check.contains("bad pages:     0"), check);
        assertTrue(a.run("info status g").ok().out().contains("postmigrate"));
        assertTrue(a.isAlive() && b.isAlive(), "both hosts run on");
    }

    record Python(List<String> command, int exit, String out) {
        @Override
        public String toString() {
            return "--- " + String.join(" ", command) + " (status " + exit + ")\n" + out;
        }
    }

    private Python python(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("python3", example.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "python-", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(PYTHON_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
            p.waitFor();
        }
        return new Python(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    private static boolean python3Runs() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
