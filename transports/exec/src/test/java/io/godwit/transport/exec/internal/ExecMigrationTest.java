package io.godwit.transport.exec.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.transport.testkit.MigrationContract;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Migrations over exec: the kit's live migration through a FIFO (cat > FIFO on the source, cat FIFO on
 * the destination), and the file flows of QEMU's exec: the source writes the stream and completes with
 * no destination alive; a destination loads the file later.
 */
class ExecMigrationTest extends MigrationContract {

    @TempDir
    Path dir;

    private final AtomicInteger fifos = new AtomicInteger();

    @Override
    protected Transport transport() {
        return new ExecTransport(60_000);
    }

    @Override
    protected String scheme() {
        return "exec";
    }

    @Override
    protected String incomingUri() throws IOException {
        Path fifo = dir.resolve("m" + fifos.incrementAndGet());
        try {
            assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
        return "exec:cat " + fifo;
    }

    @Override
    protected String outgoingUri(String listenUri) {
        return "exec:cat > " + listenUri.substring("exec:cat ".length());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "gzip -c > vm.gz | gzip -dc vm.gz",
        "cat > vm.img    | cat vm.img"})
    void toAFileWithNoDestinationAliveThenBack(String out, String in) throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).vcpus(2).workload("sweep:16M,rate=50000").build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 64 << 20); // a few live passes
        coordinator.migrate("src", "exec:cd " + dir + " && " + out);
        MigrationInfo sent = await("src", 120_000);
        assertEquals(MigrationStatus.COMPLETED, sent.status(), String.valueOf(sent));
        assertEquals(RunState.POSTMIGRATE, src.state());
        assertTrue(sent.ram().dirtySyncCount() >= 3, sent.toString());

        Vm dst = vms.create(VmSpec.builder("dst").memory(64 << 20).vcpus(2).workload("sweep:16M,rate=50000")
                .incoming("defer").build());
        coordinator.incoming("dst", "exec:cd " + dir + " && " + in);
        MigrationInfo loaded = await("dst", 120_000);
        assertEquals(MigrationStatus.COMPLETED, loaded.status(), String.valueOf(loaded));
        dst.stop(RunState.PAUSED);
        assertTrue(dst.check().clean(), dst.check().toString());
    }

    @Test
    void aCommandThatFailsFailsTheMigrationWithItsMessageAndTheSourceRunsOn() throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(32 << 20).workload("sweep").build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        coordinator.migrate("src", "exec:cat > " + dir.resolve("no/such/dir/vm.img"));
        MigrationInfo out = await("src", 60_000);
        assertEquals(MigrationStatus.FAILED, out.status());
        assertTrue(out.error().startsWith("exec:cat > " + dir.resolve("no/such/dir/vm.img") + ": exit status "),
                out.error());
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's memory is intact: " + src.check());
    }

    @Test
    void aTruncatedFileIsRefusedAndTheDestinationDoesNotRun() throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(32 << 20).workload("fill").build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        coordinator.migrate("src", "exec:cat > " + dir.resolve("whole.img"));
        assertEquals(MigrationStatus.COMPLETED, await("src", 60_000).status());
        Vm dst = vms.create(VmSpec.builder("dst").memory(32 << 20).workload("fill").incoming("defer").build());
        long half = java.nio.file.Files.size(dir.resolve("whole.img")) / 2; // however far fill had got
        coordinator.incoming("dst", "exec:head -c " + half + " " + dir.resolve("whole.img"));
        MigrationInfo in = await("dst", 60_000);
        assertEquals(MigrationStatus.FAILED, in.status());
        assertEquals(RunState.INMIGRATE, dst.state());
    }

    /**
     * Issue 14's report: {@code migrate 'exec:cat > vm.img'} of a busy guest wrote until the disk was
     * full. Now the stall policy notices, and on a one-way stream its default ends the migration.
     */
    @Test
    void aNonConvergingGuestIntoCatIsCancelledWithItsReasonAndTheSourceRunsOn() throws Exception {
        long mem = 32 << 20;
        Vm src = vms.create(VmSpec.builder("src").memory(mem).vcpus(2).workload("sweep").build());
        coordinator.setCapability("src", MigrationCapability.RETURN_PATH, false);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 0); // it can never switch over
        coordinator.setParameter("src", MigrationParameter.STALL_PASSES, 3);
        // Slower than the guest dirties, so that without the guard the file grows by at most 2 GiB
        // before this test gives up on it.
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
        Path file = dir.resolve("vm.img");
        coordinator.migrate("src", "exec:cat > " + file);
        MigrationInfo out = await("src", 60_000);
        assertEquals(MigrationStatus.CANCELLED, out.status(), String.valueOf(out));
        assertTrue(out.error().startsWith("not converging: the guest dirties ") && out.error().contains("; exec:cat > "
                + file + " is a one-way stream that keeps every pass, so the migration was cancelled and the source"
                + " runs on"), out.error());
        assertTrue(!out.error().contains("\n"), out.error());
        assertEquals(RunState.RUNNING, src.state());
        assertTrue(java.nio.file.Files.size(file) < 8 * mem, "the file stopped at " + java.nio.file.Files.size(file));
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's memory is intact: " + src.check());
    }

    @Test
    void returnPathIsRefusedUpFrontWithTheWayOut() throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(32 << 20).workload("sweep").build());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> coordinator.migrate("src", "exec:cat > /dev/null"));
        assertEquals("capability return-path needs a transport that is two-way (a channel back from the destination); "
                + "exec:cat > /dev/null is not (migrate_set_capability return-path off)", e.getMessage());
        assertEquals(MigrationStatus.NONE, coordinator.info("src").status());
        assertEquals(RunState.RUNNING, src.state());
        src.stop(RunState.PAUSED);
        assertTrue(src.check().clean(), "the source's memory is intact: " + src.check());
    }
}
