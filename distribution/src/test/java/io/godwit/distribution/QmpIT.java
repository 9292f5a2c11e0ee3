package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.godwit.tls.internal.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * oracle is checked once more through the destination's monitor, and both hosts must be alive. The
 * example then drives a TLS migration as libvirt does (object-add, tls-creds, object-del).
 */
@Timeout(300)
class QmpIT {

    private static final String GUEST = "--memory 64M --vcpus 2 --workload sweep:rate=5000";
    private static final Duration PYTHON_TIMEOUT = Duration.ofSeconds(120);

    private final List<HostProcess> hosts = new ArrayList<>();
    private Path home;
    private Path dir;
    private Path example;
    private String srcQmp;
    private String dstQmp;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(python3Runs(), "python3 is not installed: the QMP example cannot run (apt-get install python3)");
        home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        example = Path.of(System.getProperty("godwit.example.qmp", "../examples/qmp/migrate.py")).toAbsolutePath();
        assertTrue(Files.isExecutable(home.resolve("bin/godwit")), "no host home at " + home);
        assertTrue(Files.isRegularFile(example), "no QMP example at " + example);
        dir = Files.createTempDirectory(Path.of("/tmp"), "godwit-qmp-");
        srcQmp = "unix:" + dir.resolve("a.qmp");
        dstQmp = "unix:" + dir.resolve("b.qmp");
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
        startHostsWithGuests("");
        HostProcess a = hosts.get(0);
        HostProcess b = hosts.get(1);
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

    /**
     * A TLS migration between the two host processes as libvirt drives one: the example object-adds
     * tls-creds-x509 on both hosts (an authz-simple on the destination), sets tls-creds, tls-hostname and
     * tls-authz, migrates over a unix socket and object-dels them afterwards; the destination's oracle
     * is clean, its session was TLS with the source's certificate, and no object is left on either host.
     */
    @Test
    void theExampleDrivesATlsMigrationWithObjectAddAsLibvirtDoes() throws Exception {
        assumeTrue(TestPki.opensslPresent(), "openssl is not installed: TLS needs it");
        TestPki pki = new TestPki(dir.resolve("pki"));
        Path ca = pki.ca("ca");
        Instant from = TestPki.dayAgo();
        Instant to = TestPki.dayAhead();
        Path server = pki.leaf(ca, dir.resolve("pki/server"), "server", "/O=Godwit/CN=b", "DNS:b.example", from, to, false);
        Path client = pki.leaf(ca, dir.resolve("pki/client"), "client", "/O=Godwit/CN=a", null, from, to, false);
        TestPki.trust(ca, server);
        TestPki.trust(ca, client);

        startHostsWithGuests(" --qmp " + dstQmp);
        HostProcess a = hosts.get(0);
        HostProcess b = hosts.get(1);

        Python migrate = python("migrate", "--source", srcQmp, "--destination", dstQmp,
                "--uri", "unix:" + dir.resolve("mig.sock"), "--check",
                "--tls-source-dir", client.toString(), "--tls-destination-dir", server.toString(),
                "--tls-hostname", "b.example", "--tls-authz", "CN=a,O=Godwit");
        assertEquals(0, migrate.exit(), migrate.toString());
        assertTrue(migrate.out().contains("migration completed"), migrate.toString());
        assertTrue(migrate.out().contains("tls objects deleted"), migrate.toString());
        assertTrue(migrate.out().contains("bad pages:     0\n"), migrate.toString());

        String in = b.run("info migrate g").ok().out();
        assertTrue(in.contains("TLSv1.3") && in.contains("peer CN=a,O=Godwit"), in);
        assertTrue(b.run("vm_check g").ok().out().contains("bad pages:     0"));
        assertEquals("no objects", a.run("info objects").ok().out().strip());
        assertEquals("no objects", b.run("info objects").ok().out().strip());
        assertTrue(a.isAlive() && b.isAlive(), "both hosts run on");
    }

    /** Hosts a and b, ready, with guest g: a's serves QMP on srcQmp, b's waits for its source. */
    private void startHostsWithGuests(String destinationOptions) throws Exception {
        hosts.add(HostProcess.start(home, dir, "a"));
        hosts.add(HostProcess.start(home, dir, "b"));
        for (HostProcess h : hosts) {
            h.awaitReady(Duration.ofSeconds(60));
        }
        hosts.get(0).run("vm_create g " + GUEST + " --qmp " + srcQmp).ok();
        hosts.get(1).run("vm_create g " + GUEST + " --incoming defer" + destinationOptions).ok();
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
