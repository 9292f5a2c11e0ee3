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
 * A destination created with only {@code --incoming URI} (as Cloud Hypervisor's): the VM is made
 * from the source's hello when it connects. Live migrations into such destinations between two host
 * processes, for both CPU backends and with devices (virtio-net, virtio-blk whose image is given by
 * {@code --device-map}), each checked by the oracle; a source whose disk the destination was not
 * told about is refused with the option to give, the source running on.
 */
@Timeout(240)
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

    @BeforeEach
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

    @AfterEach
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
        source.run("vm_create guest --memory 128M --vcpus 2 --workload sweep:rate=5000").ok();
        String uri = waitForTheSource("vm_create guest --incoming tcp:127.0.0.1:0 --mem-prealloc");
        source.run("migrate_set_parameter guest max-bandwidth 32M; migrate_set_parameter guest downtime-limit 1").ok();
        source.run("migrate -d guest " + uri).ok();
        await(source, "info migrate guest", out -> syncs(out) >= 3 || finalStatus(out), "dirty sync count 3");
        source.run("migrate_set_parameter guest max-bandwidth 0; migrate_set_parameter guest downtime-limit 300").ok();
        String end = await(source, "info migrate guest", ShapeFromStreamIT::finalStatus, "the end of the migration");
        assertContains(end, "Migration status: completed");
        assertTrue(syncs(end) >= 3, end);
        String list = destination.run("vm_list").ok().out();
        assertTrue(list.matches("(?s).*guest\\s+running\\s+128 MiB\\s+2\\s+synthetic\\s+sweep:rate=5000\\s.*"), list);
        HostProcess.Result check = destination.runClient("stop guest; vm_check guest", WAIT);
        assertEquals(0, check.exit(), check.toString());
        assertClean(check);
        assertContains(check.out(), "pages checked: 32768");
        assertContains(source.run("info status guest").ok().out(), "VM status: paused (postmigrate)");
    }

    @Test
    void riscvGuest() throws Exception {
        source.run("vm_create guest --cpu riscv --memory 64M --vcpus 2 --guest ab").ok();
        String uri = waitForTheSource("vm_create guest --incoming unix:" + dir.resolve("mig.sock"));
        source.run("sleep 1").ok();
        assertContains(source.run("migrate guest " + uri).ok().out(), "Migration status: completed");
        assertContains(destination.run("vm_list").ok().out(), "riscv");
        destination.run("sleep 0.5").ok(); // the guest goes on from where it stopped
        HostProcess.Result check = destination.runClient("stop guest; vm_check guest", WAIT);
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
        source.run("vm_create guest --memory 64M --vcpus 1 --workload sweep:32M,rate=5000"
                + " --device virtio-net,rx-rate=1000 --device virtio-blk,image=" + image).ok();
        String unmapped = waitForTheSource("vm_create guest --incoming unix:" + dir.resolve("first.sock"));
        HostProcess.Result refused = source.run("migrate guest " + unmapped);
        assertEquals(1, refused.exit(), refused.toString());
        assertContains(refused.out() + refused.err(), "give --device-map blk0=PATH");
        assertContains(destination.run("info migrate guest").ok().out(), "Migration status: failed");
        assertFalse(destination.run("vm_list").ok().out().contains("guest"), "a VM was made from a refused hello");
        assertContains(source.run("info status guest").ok().out(), "VM status: running");

        String uri = waitForTheSource("vm_create guest --incoming unix:" + dir.resolve("mig.sock")
                + " --device-map blk0=" + image);
        source.run("migrate_set_parameter guest max-bandwidth 16M; migrate_set_parameter guest downtime-limit 1").ok();
        source.run("migrate -d guest " + uri).ok();
        await(source, "info migrate guest", out -> syncs(out) >= 3 || finalStatus(out), "dirty sync count 3");
        source.run("migrate_set_parameter guest max-bandwidth 0; migrate_set_parameter guest downtime-limit 300").ok();
        String end = await(source, "info migrate guest", ShapeFromStreamIT::finalStatus, "the end of the migration");
        assertContains(end, "Migration status: completed");
        assertContains(destination.run("info devices guest").ok().out(), "blk0  virtio-blk");
        HostProcess.Result check = destination.runClient("sleep 1; stop guest; vm_check guest", WAIT);
        assertEquals(0, check.exit(), check.toString());
        assertClean(check);
        assertContains(check.out(), "0 errors, used idx");
        assertContains(check.out(), "as the guest wrote it");
    }

    @Test
    void aDeviceMapWithAShapeIsRefusedInOneLine() {
        HostProcess.Result r = destination.run("vm_create guest --memory 64M --device-map blk0=/x.img --incoming defer");
        assertEquals(1, r.exit(), r.toString());
        assertEquals("Error: --device-map is for a VM made from the source's hello: vm_create NAME --incoming URI"
                + " without --memory, --vcpus, --cpu, --workload or --device\n", r.err());
    }

    /** The destination waits; returns the address it listens on. */
    private String waitForTheSource(String create) {
        HostProcess.Result created = destination.run(create).ok();
        assertContains(created.out(), "VM guest is made from the source's hello when it connects");
        Matcher m = LISTENING.matcher(created.out());
        if (!m.find()) {
            fail("vm_create --incoming did not say where it listens\n" + created);
        }
        assertContains(destination.run("info migrate guest").ok().out(), "Migration status: setup");
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
