package io.godwit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * Live migrations between two VMs in one framework, through the real coordinator, wire and
 * transport bundles, each checked with the sweep oracle on the destination.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MigrationIT {

    @Inject
    private VmManager vms;

    @Inject
    private MigrationService migration;

    @Configuration
    public Option[] config() {
        return GodwitTestSupport.baseOptions();
    }

    /** Temp folders of the test (sockets, FIFOs, a 256 MiB RAM file), deleted after it. */
    private final java.util.List<Path> tempDirs = new java.util.ArrayList<>();

    @After
    public void cleanUp() throws InterruptedException, IOException {
        for (Vm vm : vms.list()) {
            migration.cancel(vm.name());
        }
        Guests.destroyAll(vms);
        for (Path dir : tempDirs) {
            try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        tempDirs.clear();
    }

    private Path tempDir() throws IOException {
        Path dir = Files.createTempDirectory("godwit-it");
        tempDirs.add(dir);
        return dir;
    }

    private Vm pair(String workload, long bytes, int vcpus) {
        return pair(workload, bytes, vcpus, null);
    }

    /** With {@code dstMemPath}, the destination's RAM is a shared file (what rdma registers). */
    private Vm pair(String workload, long bytes, int vcpus, Path dstMemPath) {
        Vm src = vms.create(VmSpec.builder("src").memory(bytes).vcpus(vcpus).workload(workload).build());
        vms.create(VmSpec.builder("dst").memory(bytes).vcpus(vcpus).workload(workload).incoming("defer")
                .memPath(dstMemPath).build());
        return src;
    }

    private MigrationInfo awaitEnd(String vm, long timeoutMillis) throws InterruptedException {
        Guests.await(() -> migration.info(vm).status().isFinal(), timeoutMillis, vm + "'s migration to end");
        return migration.info(vm);
    }

    /** The destination runs on from where the source stopped; then the oracle must find nothing. */
    private void assertDestinationClean() throws InterruptedException {
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        long before = Guests.progress(dst);
        Guests.await(() -> Guests.progress(dst) > before, 30_000, "the destination to run");
        dst.stop(RunState.PAUSED);
        OracleVerdict v = dst.check();
        assertTrue(v.toString(), v.clean());
    }

    /** QEMU's trick for at least two dirty passes: tiny limits, wait for passes, then lift them. */
    private void migrateWithPasses(String uri) throws Exception {
        migrateWithPasses(uri, null, true, null);
    }

    /**
     * {@code outgoing} null: the destination's listen URI; one-way transports run without a return
     * path. With {@code dstMemPath}, the destination's RAM is a shared file (what rdma registers).
     */
    private void migrateWithPasses(String uri, String outgoing, boolean returnPath, Path dstMemPath) throws Exception {
        Vm src = pair("sweep:32M,rate=50000", 256L << 20, 1, dstMemPath); // a known dirty rate: the test must not depend on host speed
        migration.incoming("dst", uri);
        String listen = outgoing != null ? outgoing : migration.info("dst").listenUri();
        migration.setCapability("src", MigrationCapability.RETURN_PATH, returnPath);
        migration.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 64L << 20);
        migration.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        migration.migrate("src", listen);
        Guests.await(() -> migration.info("src").ram().dirtySyncCount() >= 3, 30_000, "three dirty syncs");
        migration.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        migration.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 300);
        MigrationInfo out = awaitEnd("src", 60_000);
        assertEquals(out.toString(), MigrationStatus.COMPLETED, out.status());
        assertEquals(MigrationStatus.COMPLETED, awaitEnd("dst", 30_000).status());
        assertTrue(out.toString(), out.ram().dirtySyncCount() >= 3 && out.downtimeMs() >= 0);
        assertTrue(out.toString(), out.observedDowntimeMs() >= 0 || !returnPath);
        assertEquals(RunState.POSTMIGRATE, src.state());
        assertDestinationClean();
    }

    @Test
    public void liveMigrationOverTcpWithAnEphemeralPort() throws Exception {
        migrateWithPasses("tcp:127.0.0.1:0");
    }

    /**
     * Multifd with zstd inside Felix: zstd-jni is a bundle of its own whose native library for this
     * platform comes through Bundle-NativeCode; the migration must compress (ratio above 1) and the
     * oracle stay clean.
     */
    @Test
    public void multifdWithZstdOverTcpInsideTheFramework() throws Exception {
        for (String vm : new String[] {"src", "dst"}) {
            vms.create(VmSpec.builder(vm).memory(64L << 20).workload("sweep:16M,rate=20000")
                    .incoming(vm.equals("dst") ? "defer" : null).build());
            migration.setCapability(vm, MigrationCapability.MULTIFD, true);
        }
        migration.setParameter("src", MigrationParameter.MULTIFD_CHANNELS, 2);
        migration.setParameter("src", MigrationParameter.MULTIFD_COMPRESSION,
                MigrationParameter.MULTIFD_COMPRESSIONS.indexOf("zstd"));
        migration.incoming("dst", "tcp:127.0.0.1:0");
        migration.migrate("src", migration.info("dst").listenUri());
        MigrationInfo out = awaitEnd("src", 60_000);
        assertEquals(out.toString(), MigrationStatus.COMPLETED, out.status());
        assertEquals(MigrationStatus.COMPLETED, awaitEnd("dst", 30_000).status());
        assertTrue(out.toString(), out.multifd().channels() == 2 && out.multifd().compressionRatio() > 2);
        assertDestinationClean();
    }

    @Test
    public void liveMigrationOverUnix() throws Exception {
        Path dir = tempDir();
        migrateWithPasses("unix:" + dir.resolve("mig.sock"));
    }

    @Test
    public void liveMigrationOverRdma() throws Exception {
        Path dir = tempDir();
        migrateWithPasses("rdma:127.0.0.1:0", null, true, dir.resolve("dst.ram"));
    }

    @Test
    public void liveMigrationOverExecThroughAFifo() throws Exception {
        Path fifo = tempDir().resolve("mig.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        migrateWithPasses("exec:cat " + fifo, "exec:cat > " + fifo, false, null);
    }

    @Test
    public void liveMigrationOverFdSocketsWithTheReturnPath() throws Throwable {
        int[] pair = Descriptors.socketpair();
        migrateWithPasses("fd:" + pair[0], "fd:" + pair[1], true, null);
    }

    @Test
    public void liveMigrationOverAnFdPipe() throws Throwable {
        int[] pipe = Descriptors.pipe();
        migrateWithPasses("fd:" + pipe[0], "fd:" + pipe[1], false, null);
    }

    @Test
    public void aOneWayTransportIsRefusedWithReturnPathBeforeAnythingStarts() throws Throwable {
        Vm src = vms.create(VmSpec.builder("src").memory(32L << 20).workload("sweep").build());
        int[] pipe = Descriptors.pipe();
        try {
            migration.migrate("src", "fd:" + pipe[1]);
            org.junit.Assert.fail("a pipe has no way back");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("capability return-path needs a transport that is two-way"));
        }
        assertEquals(MigrationStatus.NONE, migration.info("src").status());
        assertEquals(RunState.RUNNING, src.state());
        Descriptors.close(pipe); // the refusal consumed nothing
    }

    @Test
    public void pauseBeforeSwitchoverWaitsForContinueAndVerifyRamAgrees() throws Exception {
        pair("sweep:16M,rate=50000", 64L << 20, 1);
        migration.setCapability("src", MigrationCapability.PAUSE_BEFORE_SWITCHOVER, true);
        migration.setCapability("src", MigrationCapability.VERIFY_RAM, true);
        migration.incoming("dst", "tcp:127.0.0.1:0");
        migration.migrate("src", migration.info("dst").listenUri());
        Guests.await(() -> migration.info("src").status() == MigrationStatus.PRE_SWITCHOVER, 30_000,
                "pre-switchover");
        Thread.sleep(200);
        assertEquals(MigrationStatus.PRE_SWITCHOVER, migration.info("src").status());
        assertEquals(RunState.FINISH_MIGRATE, vms.get("src").orElseThrow().state());
        migration.continueMigration("src");
        assertEquals(MigrationStatus.COMPLETED, awaitEnd("src", 30_000).status());
        awaitEnd("dst", 30_000);
        assertDestinationClean();
    }

    @Test
    public void cancelInPreSwitchoverAndThenMigrateAgain() throws Exception {
        Vm src = pair("sweep:16M,rate=50000", 64L << 20, 1);
        migration.setCapability("src", MigrationCapability.PAUSE_BEFORE_SWITCHOVER, true);
        migration.incoming("dst", "tcp:127.0.0.1:0");
        migration.migrate("src", migration.info("dst").listenUri());
        Guests.await(() -> migration.info("src").status() == MigrationStatus.PRE_SWITCHOVER, 30_000,
                "pre-switchover");
        migration.cancel("src");
        assertEquals(MigrationStatus.CANCELLED, awaitEnd("src", 10_000).status());
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(MigrationStatus.FAILED, awaitEnd("dst", 30_000).status());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        migration.setCapability("src", MigrationCapability.PAUSE_BEFORE_SWITCHOVER, false);
        migration.incoming("dst", "tcp:127.0.0.1:0");
        migration.migrate("src", migration.info("dst").listenUri());
        assertEquals(MigrationStatus.COMPLETED, awaitEnd("src", 30_000).status());
        awaitEnd("dst", 30_000);
        assertDestinationClean();
    }

    @Test
    public void anUnreachableDestinationFailsAndTheSourceRunsIntact() throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(32L << 20).workload("sweep").build());
        migration.migrate("src", "tcp:127.0.0.1:1");
        MigrationInfo out = awaitEnd("src", 10_000);
        assertEquals(MigrationStatus.FAILED, out.status());
        assertTrue(out.error(), out.error().contains("connection refused"));
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean());
    }

    @Test
    public void aDestinationWithAnotherUuidIsRefusedWithValidateUuid() throws Exception {
        Vm src = pair("sweep:8M", 32L << 20, 1);
        migration.setCapability("src", MigrationCapability.VALIDATE_UUID, true);
        migration.incoming("dst", "tcp:127.0.0.1:0");
        migration.migrate("src", migration.info("dst").listenUri());
        MigrationInfo out = awaitEnd("src", 10_000);
        assertEquals(MigrationStatus.FAILED, out.status());
        assertTrue(out.error(), out.error().contains("UUID mismatch"));
        assertEquals(RunState.RUNNING, src.state());
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
    }

    @Test
    public void aGarbageStreamNeverStartsTheDestination() throws Exception {
        vms.create(VmSpec.builder("dst").memory(32L << 20).workload("sweep").incoming("defer").build());
        migration.incoming("dst", "tcp:127.0.0.1:0");
        String[] hostPort = migration.info("dst").listenUri().substring(4).split(":");
        byte[] garbage = new byte[1 << 20];
        new Random(7).nextBytes(garbage);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
            OutputStream out = s.getOutputStream();
            out.write(garbage);
        } catch (IOException expected) {
            // the destination may close first
        }
        MigrationInfo in = awaitEnd("dst", 30_000);
        assertEquals(MigrationStatus.FAILED, in.status());
        assertTrue(in.error(), in.error().contains("not a Godwit migration stream"));
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
    }
}
