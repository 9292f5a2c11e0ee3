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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A destination created with only {@code --incoming URI} (as Cloud Hypervisor's): the VM is made
 * from the source's hello when it connects. Live migrations into such destinations between two host
 * processes, for both CPU backends and with devices (virtio-net, virtio-blk whose image is given by
 * {@code --device-map}), each checked by the oracle; a source whose disk the destination was not
 * told about is refused with the option to give, the source running on. The two hosts serve every
 * test (each its own VM name): starting hosts is most of such a test's time on a loaded machine.
 */
@Timeout(240)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShapeFromStreamIT {

    private static final Duration READY = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+)");
    private static final Pattern CLEAN = Pattern.compile("(?m)^bad pages:\\s+0$");

    private final List<HostProcess> hosts = new ArrayList<>();
    private Path home;
    private Path dir;
    private HostProcess source;
    private HostProcess destination;

    @BeforeAll
    void setUp() throws Exception {
        home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        dir = Files.createTempDirectory(Path.of("/tmp"), "godwit-shape-it-"); // short: unix socket paths
        source = HostProcess.start(home, dir, "source");
        hosts.add(source);
        destination = HostProcess.start(home, dir, "destination");
        hosts.add(destination);
        source.awaitReady(READY);
        destination.awaitReady(READY);
    }

    @AfterAll
    void tearDown() throws IOException, InterruptedException {
        boolean hung = false;
        for (HostProcess host : hosts) {
            hung |= !host.stop();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertFalse(hung, "a host needed SIGKILL after SIGTERM");
    }

    @Test
    void syntheticGuestWithForcedDirtyPasses() throws Exception {
        source.run("vm_create syn --memory 128M --vcpus 2 --workload sweep:rate=5000").ok();
        String uri = waitForTheSource("syn", "vm_create syn --incoming tcp:127.0.0.1:0 --mem-prealloc");
        source.run("migrate_set_parameter syn max-bandwidth 32M; migrate_set_parameter syn downtime-limit 1").ok();
        source.run("migrate -d syn " + uri).ok();
        await(source, "info migrate syn", out -> syncs(out) >= 3 || finalStatus(out), "dirty sync count 3");
        source.run("migrate_set_parameter syn max-bandwidth 0; migrate_set_parameter syn downtime-limit 300").ok();
        String end = await(source, "info migrate syn", ShapeFromStreamIT::finalStatus, "the end of the migration");
        assertContains(end, "Migration status: completed");
        assertTrue(syncs(end) >= 3, end);
        String list = destination.run("vm_list").ok().out();
        assertTrue(list.matches("(?s).*syn\\s+running\\s+128 MiB\\s+2\\s+synthetic\\s+sweep:rate=5000\\s.*"), list);
        HostProcess.Result check = destination.runClient("stop syn; vm_check syn", WAIT);
        assertEquals(0, check.exit(), check.toString());
        assertClean(check);
        assertContains(check.out(), "pages checked: 32768");
        assertContains(source.run("info status syn").ok().out(), "VM status: paused (postmigrate)");
    }

    @Test
    void riscvGuest() throws Exception {
        source.run("vm_create rv --cpu riscv --memory 64M --vcpus 2 --guest ab").ok();
        String uri = waitForTheSource("rv", "vm_create rv --incoming unix:" + dir.resolve("rv.sock"));
        source.run("sleep 1").ok();
        assertContains(source.run("migrate rv " + uri).ok().out(), "Migration status: completed");
        assertTrue(destination.run("vm_list").ok().out().matches("(?s).*rv\\s+running\\s+64 MiB\\s+2\\s+riscv\\s+ab\\s.*"),
                destination.run("vm_list").out());
        destination.run("sleep 0.5").ok(); // the guest goes on from where it stopped
        HostProcess.Result check = destination.runClient("stop rv; vm_check rv", WAIT);
        assertEquals(0, check.exit(), check.toString());
        assertClean(check);
    }

    /**
     * virtio-net under rx traffic and virtio-blk under guest I/O on shared storage: the destination
     * first is not told where the disk is (refused, the source runs on), then is, with --device-map.
     */
    @Test
    void virtioNetAndVirtioBlkWithADeviceMap() throws Exception {
        Path image = dir.resolve("shared.img");
        source.run("vm_create dev --memory 64M --vcpus 1 --workload sweep:32M,rate=5000"
                + " --device virtio-net,rx-rate=1000 --device virtio-blk,image=" + image).ok();
        String unmapped = waitForTheSource("dev", "vm_create dev --incoming unix:" + dir.resolve("first.sock"));
        HostProcess.Result refused = source.run("migrate dev " + unmapped);
        assertEquals(1, refused.exit(), refused.toString());
        assertContains(refused.out() + refused.err(), "give --device-map blk0=PATH");
        assertContains(destination.run("info migrate dev").ok().out(), "Migration status: failed");
        assertFalse(destination.run("vm_list").ok().out().contains("dev "), "a VM was made from a refused hello");
        assertContains(source.run("info status dev").ok().out(), "VM status: running");

        String uri = waitForTheSource("dev", "vm_create dev --incoming unix:" + dir.resolve("dev.sock")
                + " --device-map blk0=" + image);
        source.run("migrate_set_parameter dev max-bandwidth 16M; migrate_set_parameter dev downtime-limit 1").ok();
        source.run("migrate -d dev " + uri).ok();
        await(source, "info migrate dev", out -> syncs(out) >= 3 || finalStatus(out), "dirty sync count 3");
        source.run("migrate_set_parameter dev max-bandwidth 0; migrate_set_parameter dev downtime-limit 300").ok();
        String end = await(source, "info migrate dev", ShapeFromStreamIT::finalStatus, "the end of the migration");
        assertContains(end, "Migration status: completed");
        assertContains(destination.run("info devices dev").ok().out(), "blk0  virtio-blk");
        HostProcess.Result check = destination.runClient("sleep 1; stop dev; vm_check dev", WAIT);
        assertEquals(0, check.exit(), check.toString());
        assertClean(check);
        assertContains(check.out(), "0 errors, used idx");
        assertContains(check.out(), "as the guest wrote it");
    }

    @Test
    void aDeviceMapWithAShapeIsRefusedInOneLine() {
        HostProcess.Result r = destination.run("vm_create odd --memory 64M --device-map blk0=/x.img --incoming defer");
        assertEquals(1, r.exit(), r.toString());
        assertEquals("Error: --device-map is for a VM made from the source's hello: vm_create NAME --incoming URI"
                + " without --memory, --vcpus, --cpu, --workload or --device\n", r.err());
    }

    /** The destination waits; returns the address it listens on. */
    private String waitForTheSource(String vm, String create) {
        HostProcess.Result created = destination.run(create).ok();
        assertContains(created.out(), "VM " + vm + " is made from the source's hello when it connects");
        Matcher m = LISTENING.matcher(created.out());
        if (!m.find()) {
            fail("vm_create --incoming did not say where it listens\n" + created);
        }
        assertContains(destination.run("info migrate " + vm).ok().out(), "Migration status: setup");
        return m.group(1);
    }

    private static long syncs(String info) {
        Matcher m = Pattern.compile("(?m)^dirty sync count:\\s+(\\d+)").matcher(info);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static boolean finalStatus(String info) {
        return info.matches("(?s).*Migration status: (completed|failed|cancelled).*");
    }

    private static String await(HostProcess host, String script, Predicate<String> until, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String out = host.run(script).ok().out();
            if (until.test(out)) {
                return out;
            }
            if (System.nanoTime() > deadline) {
                fail("still waiting for " + what + " after " + WAIT.toSeconds() + " s:\n" + out + "\n" + host.diagnostics());
            }
            Thread.sleep(200);
        }
    }

    private static void assertClean(HostProcess.Result check) {
        assertTrue(CLEAN.matcher(check.out()).find(), "vm_check did not report 0 bad pages\n" + check);
    }

    private static void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "expected '" + expected + "' in:\n" + text);
    }
}
