package io.godwit.coordinator.internal;

import com.google.protobuf.ByteString;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.vm.RunState;
import io.godwit.wire.FrameType;
import io.godwit.wire.StateEncoder;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.Complete;
import io.godwit.wire.proto.SectionEnd;
import io.godwit.wire.proto.StateSection;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Stop-and-copy (QEMU's migration_completion_precopy): stop the VM, optionally wait in
 * pre-switchover, send the last dirty pages with the rate limit lifted, the vCPU state, and the
 * completion; then wait for the destination to say it loaded and resumed.
 */
final class Switchover {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Switchover.class);

    /** How long a source waits for the destination to confirm it runs the guest. */
    private static final long CONFIRM_MILLIS = 60_000;

    private final OutgoingMigration m;

    Switchover(OutgoingMigration migration) {
        this.m = migration;
    }

    void run() throws IOException, InterruptedException {
        long stopNanos = System.nanoTime();
        long stopMicros = wallMicros();
        m.stoppedByUs = true;
        m.switchoverStarts(false);
        // QEMU's vm_was_running, taken by the stop itself: a guest the user paused during precopy
        // stays paused on the destination, and is not resumed here if the switchover fails.
        m.wasRunning = m.vm.stopAndGetPrevious(RunState.FINISH_MIGRATE) == RunState.RUNNING;
        m.stats.guestStopped(false, m.sentBytes() + m.writer.staged()); // what waits in the writer went in precopy
        long stoppedNanos = System.nanoTime();
        if (m.settings.capability(MigrationCapability.PAUSE_BEFORE_SWITCHOVER)) {
            m.setStatus(MigrationStatus.PRE_SWITCHOVER);
            m.continueSignal.await();
            m.checkCancel();
        }
        m.setStatus(MigrationStatus.DEVICE);
        m.rateLimit.lift();
        m.writer.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.SWITCHOVER_START).build());
        m.sync();
        long syncedNanos = System.nanoTime();
        m.sender.sendAll(m.bitmap, () -> {
            m.checkCancel();
            return true;
        });
        m.stats.remainingPages = 0;
        if (m.mapped != null) {
            m.mapped.finish(m.writer); // the bitmaps say which pages the file holds as they are now
        }
        long ramNanos = System.nanoTime();
        m.writer.writeMessage(FrameType.SECTION_END,
                SectionEnd.newBuilder().setSectionId(OutgoingMigration.RAM_SECTION).setPass(m.stats.syncCount).build());
        sendVcpuState();
        m.vm.dirtyLogging().stop();
        Complete.Builder complete = Complete.newBuilder()
                .setSourceWasRunning(m.wasRunning)
                .setSourceStopMicros(stopMicros);
        if (m.digests != null) {
            complete.setRamHash(ByteString.copyFrom(m.digests.value())); // every page's digest, as last sent
            m.stats.verifyNanos = m.digests.nanos();
        }
        m.checkCancel();
        m.pastPointOfNoReturn = true; // from here the destination may start the guest
        m.writer.writeMessage(FrameType.COMPLETE, complete.build());
        m.writer.flush();
        m.stats.sent(m.sentBytes());
        m.stats.downtimeMs = (System.nanoTime() - stopNanos) / 1_000_000;
        m.switchoverSent();
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: stop-and-copy: stopped after {} ms, synced after {} ms, final RAM sent after {} ms,"
                    + " completion flushed after {} ms", m.vm.name(), (stoppedNanos - stopNanos) / 1_000_000,
                    (syncedNanos - stopNanos) / 1_000_000, (ramNanos - stopNanos) / 1_000_000, m.stats.downtimeMs);
        }
        confirm(stopMicros);
        LOG.debug("{}: the destination confirmed {} ms after the stop", m.vm.name(),
                (System.nanoTime() - stopNanos) / 1_000_000);
        m.vm.setStoppedState(RunState.POSTMIGRATE);
        m.end(MigrationStatus.COMPLETED, null);
    }

    private void sendVcpuState() throws IOException {
        sendState(m);
    }

    /** Every vCPU's state, with copy-storage the disks' last parts, then every device's state. */
    static void sendState(OutgoingMigration m) throws IOException {
        int last = sendCpus(m);
        m.deviceIteration.complete(m.writer); // the disks' last dirty blocks, devices drained
        DeviceSections.send(m.vm, m.writer, last, m.stats, m.saveCosts);
        LOG.debug("{}: device state saved in {} us", m.vm.name(), m.stats.deviceSaveNanos / 1000);
    }

    private static int sendCpus(OutgoingMigration m) throws IOException {
        int sections = OutgoingMigration.RAM_SECTION;
        for (int i = 0; i < m.vm.spec().vcpus(); i++) {
            StateEncoder out = new StateEncoder();
            m.vm.saveVcpuState(i, out);
            byte[] data = out.toByteArray();
            if (data.length > WireLimits.MAX_STATE_BYTES) {
                throw new MigrationFailure("vCPU " + i + " state of " + data.length + " bytes is too large");
            }
            m.writer.writeMessage(FrameType.STATE, cpuSection(m.vm, i, ++sections, data));
        }
        return sections;
    }

    /** vCPU {@code i}'s STATE section (also built, and thrown away, when {@link SaveCosts} measures). */
    static StateSection cpuSection(io.godwit.api.vm.Vm vm, int i, int sectionId, byte[] data) {
        return StateSection.newBuilder().setSectionId(sectionId).setName("cpu").setInstance(i)
                .setVersion(vm.vcpuStateVersion(i)).setData(ByteString.copyFrom(data)).build();
    }

    /** With a return path, the migration completes only when the destination runs the guest. */
    private void confirm(long stopMicros) throws InterruptedException, IOException {
        ReturnPath rp = m.returnPath;
        if (rp == null) {
            m.endStreamWithoutReturnPath();
            return;
        }
        rp.awaitEnd(CONFIRM_MILLIS);
        if (rp.resumedMicros() >= 0) {
            m.stats.observedDowntimeMs = Math.max(0, (rp.resumedMicros() - stopMicros) / 1000);
            m.stats.downtimeMs = downtimeMs(m.stats.downtimeMs, rp.loadedMicros(), stopMicros);
            return;
        }
        String error = rp.error();
        if (error != null && rp.destinationFailed()) {
            m.pastPointOfNoReturn = rp.loaded(); // it said it failed before loading everything: it does not run
            throw new MigrationFailure(error);
        }
        throw new MigrationFailure("the destination did not confirm that it runs the guest"
                + (error != null ? " (" + error + ")" : ""));
    }

    /**
     * The source's downtime (docs/ARCHITECTURE.md, "Downtime"): from its stop to the last byte of the
     * stop-and-copy handed to the channel. The source reads its clock after the flush, and a thread
     * descheduled there reads it late, past the destination's resume (31 ms against an observed 8 ms
     * once). The last byte cannot have left later than the destination had it, so the destination's
     * time of that ({@code arrivedMicros}: LOADED, or the postcopy guest's start) bounds it; and since
     * the destination resumes after that, the downtime never exceeds the observed one.
     */
    static long downtimeMs(long measuredMs, long arrivedMicros, long stopMicros) {
        if (arrivedMicros < 0) {
            return measuredMs;
        }
        return Math.min(measuredMs, Math.max(0, (arrivedMicros - stopMicros) / 1000));
    }

    static long wallMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }
}
