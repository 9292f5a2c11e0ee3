package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hot deploy of a transport: the example transport's jar ({@code examples/transport-shaped}) copied
 * into the deploy folder of two running hosts makes {@code shaped:} usable; a live migration over it
 * passes the oracle; deleting the jar under a running migration fails that migration with the source
 * VM running and intact, and the scheme is unknown afterwards. Each host watches a deploy folder of
 * its own ({@code -Dfelix.fileinstall.dir}), so the shared home is left alone.
 */
@Timeout(240)
class DeployTransportIT {

    private static final String GUEST = "--memory 128M --vcpus 2 --workload sweep:rate=5000";
    private static final Duration READY = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+)");
    private static final Pattern CLEAN = Pattern.compile("(?m)^bad pages:\\s+0$");

    private final List<HostProcess> hosts = new ArrayList<>();
    private Path home;
    private Path dir;
    private Path jar;

    @BeforeEach
    void setUp() throws IOException {
        home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        jar = Path.of(System.getProperty("godwit.example.transport",
                "target/examples/godwit-example-transport-shaped.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "no example transport jar at " + jar);
        dir = Files.createTempDirectory(Path.of("/tmp"), "godwit-deploy-it-"); // short: unix socket paths
    }

    @AfterEach
    void tearDown() throws IOException, InterruptedException {
        for (HostProcess host : hosts) {
            host.stop();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private HostProcess host(String name) throws Exception {
        Path deploy = Files.createDirectories(dir.resolve(name + "-deploy"));
        HostProcess host = HostProcess.start(home, dir, name, "-Dfelix.fileinstall.dir=" + deploy);
        hosts.add(host);
        return host;
    }

    @Test
    void aDroppedTransportIsUsableAndGoneWhenRemoved() throws Exception {
        HostProcess source = host("source");
        HostProcess destination = host("destination");
        source.awaitReady(READY);
        destination.awaitReady(READY);
        assertFalse(source.run("info transports").ok().out().contains("shaped"));
        assertTrue(source.run("info transports").ok().out().contains("exec"), "exec is a system bundle");

        long t0 = System.nanoTime();
        Files.copy(jar, dir.resolve("source-deploy/shaped.jar"));
        Files.copy(jar, dir.resolve("destination-deploy/shaped.jar"));
        await(source, "info transports", out -> out.contains("shaped"), "the scheme on the source");
        await(destination, "info transports", out -> out.contains("shaped"), "the scheme on the destination");
        long usableMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(source.run("info transports").ok().out()
                .matches("(?s).*shaped\\s+org\\.example\\.godwit\\.transport-shaped \\S+\\s+multi-channel,bidirectional.*"),
                source.run("info transports").out());

        // a live migration over it, checked by the oracle
        String uri = incoming(destination, "guest");
        source.run("vm_create guest " + GUEST).ok();
        HostProcess.Result done = source.run("migrate guest " + uri + ",rate=64M").ok();
        assertTrue(done.out().contains("Migration status: completed"), done.toString());
        assertClean(destination.run("stop guest; vm_check guest").ok());

        // the bundle goes away under a running migration: it fails, the source runs on, intact
        String second = incoming(destination, "g2");
        source.run("vm_create g2 " + GUEST).ok();
        source.run("migrate -d g2 " + second + ",rate=2M").ok();
        await(source, "info migrate g2", out -> out.contains("Migration status: active"), "the second migration");
        Files.delete(dir.resolve("source-deploy/shaped.jar"));
        String failed = await(source, "info migrate g2", out -> out.contains("Migration status: failed"),
                "the second migration to fail");
        assertTrue(failed.contains("the 'shaped' transport was removed"), failed);
        assertTrue(source.run("info status g2").ok().out().contains("VM status: running"));
        assertClean(source.run("stop g2; vm_check g2").ok());
        assertTrue(destination.run("info status g2").ok().out().contains("inmigrate"));

        await(source, "info transports", out -> !out.contains("shaped"), "the scheme to disappear");
        HostProcess.Result unknown = source.run("migrate g2 " + second);
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("unknown transport 'shaped'"), unknown.toString());
        System.out.printf("DeployTransportIT: the dropped transport was usable on both hosts %d ms after the copy%n",
                usableMs);
    }

    private static String incoming(HostProcess destination, String vm) {
        HostProcess.Result created = destination.run("vm_create " + vm + " " + GUEST
                + " --incoming shaped:127.0.0.1:0").ok();
        Matcher m = LISTENING.matcher(created.out());
        if (!m.find()) {
            fail("vm_create --incoming did not say where it listens\n" + created);
        }
        return m.group(1);
    }

    private static String await(HostProcess host, String script, Predicate<String> until, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String out = host.run(script).out();
            if (until.test(out)) {
                return out;
            }
            if (System.nanoTime() > deadline) {
                fail("still waiting for " + what + " after " + WAIT.toSeconds() + " s:\n" + out + "\n" + host.diagnostics());
            }
            Thread.sleep(100);
        }
    }

    private static void assertClean(HostProcess.Result check) {
        assertTrue(CLEAN.matcher(check.out()).find(), "the oracle found bad pages:\n" + check);
    }
}
