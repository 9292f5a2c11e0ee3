package io.godwit.coordinator.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.memory.MemoryReservation;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.vm.RunState;
import io.godwit.wire.FrameType;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.Complete;
import io.godwit.wire.proto.PostcopyDiscard;
import io.godwit.wire.proto.SectionEnd;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Postcopy on the source (QEMU's postcopy_start, then ram_save_iterate in postcopy): stop the guest,
 * send what the destination cannot run without (the pages the devices' rings live in, then the
 * discard map of every page it does not have, the vCPU and device states) and POSTCOPY_RUN; from
 * then the destination runs the guest and this side pushes the remaining pages in the background,
 * answering the pages the guest faulted on first, each from where the last request was (QEMU's
 * locality: a guest that faults on page n soon touches n + 1).
 *
 * <p>On the migration thread. Requests arrive on the return path's thread ({@link ReturnPath}).
 */
final class Postcopy {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Postcopy.class);
    /** Background pages between two looks at the request queue: a requested page waits behind at most this. */
    private static final int BACKGROUND_BATCH_PAGES = 64;
    /** Words of the discard map per frame: 1M pages, within the frame type's limit. */
    private static final int DISCARD_WORDS = 16384;
    private static final long CONFIRM_MILLIS = 60_000;
    /** How long a recovery waits for the destination's map of missing pages. */
    private static final long RECOVERY_MILLIS = 10_000;

    private final OutgoingMigration m;
    private final DirtyBitmap bitmap;

    Postcopy(OutgoingMigration migration) {
        this.m = migration;
        this.bitmap = migration.bitmap;
    }

    void run() throws IOException, InterruptedException {
        long stopNanos = System.nanoTime();
        long stopMicros = Switchover.wallMicros();
        m.stoppedByUs = true;
        m.switchoverStarts(true);
        m.wasRunning = m.vm.stopAndGetPrevious(RunState.FINISH_MIGRATE) == RunState.RUNNING;
        m.stats.guestStopped(true, m.sentBytes() + m.writer.staged());
        long stoppedNanos = System.nanoTime();
        m.setStatus(MigrationStatus.POSTCOPY_ACTIVE);
        m.rateLimit.lift();
        m.writer.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.POSTCOPY_START).build());
        m.sync();
        long syncedNanos = System.nanoTime();
        sendMustPrecopy();
        sendDiscard();
        Switchover.sendState(m);
        m.vm.dirtyLogging().stop(); // the source's guest never runs again here: nothing can dirty its RAM
        m.checkCancel();
        m.rateLimit.postcopy(); // the background push is capped by max-postcopy-bandwidth, if set
        m.pastPointOfNoReturn = true; // the destination may start the guest from here
        m.writer.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.POSTCOPY_RUN)
                .setValue(m.wasRunning ? 1 : 0).setTimeMicros(stopMicros).build());
        m.writer.flush();
        m.stats.downtimeMs = (System.nanoTime() - stopNanos) / 1_000_000;
        m.switchoverSent();
        LOG.debug("{}: postcopy start: stopped after {} ms, synced after {} ms, states sent after {} ms", m.vm.name(),
                (stoppedNanos - stopNanos) / 1_000_000, (syncedNanos - stopNanos) / 1_000_000, m.stats.downtimeMs);
        LOG.info("{}: postcopy: the destination may run the guest; {} pages to push", m.vm.name(), bitmap.count());
        while (true) {
            try {
                push();
                m.writer.writeMessage(FrameType.SECTION_END, SectionEnd.newBuilder()
                        .setSectionId(OutgoingMigration.RAM_SECTION).setPass(m.stats.syncCount).build());
                m.writer.writeMessage(FrameType.COMPLETE, Complete.newBuilder().setPostcopy(true)
                        .setSourceWasRunning(m.wasRunning).setSourceStopMicros(stopMicros).build());
                m.writer.flush();
                confirm(stopMicros);
                break;
            } catch (MigrationFailure | IOException e) {
                if (m.returnPath.destinationFailed() || m.aborted()) {
                    throw lost(e);
                }
                pauseUntilRecovered(e);
            }
        }
        m.stats.sent(m.sentBytes());
        m.vm.setStoppedState(RunState.POSTMIGRATE);
        m.end(MigrationStatus.COMPLETED, null);
    }

    /** The destination itself failed (an ERROR on the return path): nothing can resume this postcopy. */
    private MigrationFailure lost(Exception e) {
        return new MigrationFailure("postcopy failed after the destination started the guest, with "
                + bitmap.count() + " pages not sent: " + describe(e)
                + "; neither host has the whole guest, so it cannot run on either", e);
    }

    /**
     * QEMU's postcopy recovery, source side: the channel broke, so both sides wait in postcopy-paused
     * and keep everything. {@code migrate -r URI} connects again; the destination answers with the
     * pages it still misses, which become the bitmap: a page that arrived is never sent again, one lost
     * in flight is. A recovery that fails leaves the migration paused, ready for another try.
     */
    private void pauseUntilRecovered(Exception e) throws InterruptedException {
        m.closeChannel();
        m.returnPath.close();
        String why = m.pauseRequested ? "migrate-pause" : describe(e);
        m.pauseRequested = false;
        m.stats.error = "postcopy paused: " + why + "; resume with migrate_recover URI on the destination, then"
                + " migrate -r URI here. The guest runs on neither host whole: if the destination is gone for"
                + " good, the guest is lost";
        LOG.warn("{}: {}", m.vm.name(), m.stats.error);
        m.setStatus(MigrationStatus.POSTCOPY_PAUSED);
        while (true) {
            Runnable reconnect = m.awaitResume();
            m.pauseRequested = false; // migrate-pause is taken again from postcopy-recover on
            m.setStatus(MigrationStatus.POSTCOPY_RECOVER);
            try {
                reconnect.run();
                pausedMeanwhile();
                DirtyBitmap missing = m.returnPath.awaitRecvBitmap(RECOVERY_MILLIS);
                pausedMeanwhile();
                if (missing == null) {
                    throw new MigrationFailure("the destination did not answer the recovery"
                            + (m.returnPath.error() != null ? " (" + m.returnPath.error() + ")" : ""));
                }
                bitmap.clear();
                missing.harvestInto(bitmap);
                m.stats.recoveries++;
                m.stats.missingAtRecovery = bitmap.count();
                m.stats.sentAtRecovery = m.stats.normal + m.stats.duplicate;
                m.stats.error = null;
                LOG.info("{}: postcopy recovered; the destination misses {} pages", m.vm.name(), bitmap.count());
                m.setStatus(MigrationStatus.POSTCOPY_ACTIVE);
                return;
            } catch (MigrationFailure f) {
                m.closeChannel();
                if (m.returnPath != null) {
                    m.returnPath.close();
                }
                String cause = m.pauseRequested ? "migrate-pause during the recovery" : "recovery failed: " + f.getMessage();
                m.stats.error = "postcopy paused: " + cause + "; try migrate -r again";
                LOG.warn("{}: {}", m.vm.name(), m.stats.error);
                m.setStatus(MigrationStatus.POSTCOPY_PAUSED);
            }
        }
    }

    /**
     * A migrate-pause that came while the recovery connected closed the channel it found, which may
     * have been the broken one, not the new one: it is honoured here, once the new channel is set.
     */
    private void pausedMeanwhile() {
        if (m.pauseRequested) {
            throw new MigrationFailure("migrate-pause");
        }
    }

    /**
     * The pages inside device reservations (rings, rx buffers, request buffers) go before the guest
     * runs, as QEMU's must-precopy state: a device's state load and its backend read them through the
     * raw mapping, and a device must never find its ring missing.
     */
    private void sendMustPrecopy() throws IOException, InterruptedException {
        for (MemoryReservation r : m.vm.memory().reservations()) {
            long first = r.gpa() >>> RamBlock.PAGE_SHIFT;
            long end = (r.gpa() + r.size() + RamBlock.PAGE_SIZE - 1) >>> RamBlock.PAGE_SHIFT;
            for (long p = first; p < end && p < bitmap.pages(); p++) {
                if (bitmap.testAndClear(p)) {
                    m.sender.addPage(p);
                }
            }
        }
        m.sender.flush();
    }

    /** The discard map: every page still set in the bitmap is missing on the destination. */
    private void sendDiscard() throws IOException {
        for (int b = 0; b < m.vm.memory().blocks().size(); b++) {
            RamBlock block = m.vm.memory().blocks().get(b);
            long firstWord = block.firstPage() >>> 6; // blocks are 64-page aligned (2 MiB aligned RAM)
            long words = (block.pages() + 63) >>> 6;
            for (long w = 0; w < words; w += DISCARD_WORDS) {
                PostcopyDiscard.Builder d = PostcopyDiscard.newBuilder().setBlock(b).setFirstWord(w);
                for (long i = w; i < Math.min(words, w + DISCARD_WORDS); i++) {
                    d.addWords(bitmap.word((int) (firstWord + i)));
                }
                m.writer.writeMessage(FrameType.DISCARD, d.build());
            }
        }
    }

    /** Pushes every page left, requested pages first, until the bitmap is empty. */
    private void push() throws IOException, InterruptedException {
        ReturnPath rp = m.returnPath;
        long cursor = 0;
        long left = bitmap.count();
        while (left > 0) {
            m.checkCancel();
            Long requested = rp.nextRequest(0, TimeUnit.MILLISECONDS);
            while (requested != null) {
                m.stats.postcopyRequestsServed++; // asked for; those already on their way are not sent twice
                if (requested < bitmap.pages() && bitmap.testAndClear(requested)) {
                    m.sender.addPage(requested);
                    left--;
                    cursor = requested + 1; // locality: the guest goes on from there
                }
                requested = rp.nextRequest(0, TimeUnit.MILLISECONDS);
            }
            m.sender.flush();
            m.writer.flush();
            int sent = 0;
            while (sent < BACKGROUND_BATCH_PAGES && left > 0) {
                long p = bitmap.nextSetBit(cursor);
                if (p < 0) {
                    cursor = 0;
                    continue;
                }
                bitmap.testAndClear(p);
                m.sender.addPage(p);
                cursor = p + 1;
                sent++;
                left--;
            }
            m.sender.flush();
            m.stats.remainingPages = left;
            m.stats.updateRates();
        }
        m.writer.flush();
    }

    private String describe(Exception e) {
        String rp = m.returnPath.error();
        return rp != null ? rp : String.valueOf(e.getMessage());
    }

    /** QEMU's migration_postcopy_is_alive: the states in which migrate-pause may break the channel. */
    static boolean alive(MigrationStatus s) {
        return s == MigrationStatus.POSTCOPY_ACTIVE || s == MigrationStatus.POSTCOPY_RECOVER;
    }

    /** Refuses capabilities postcopy cannot work with, before the migration starts. */
    static void checkCapabilities(MigrationSettings settings) {
        long stallAction = settings.parameter(io.godwit.api.migration.MigrationParameter.STALL_ACTION);
        boolean postcopy = settings.capability(io.godwit.api.migration.MigrationCapability.POSTCOPY_RAM);
        if (!postcopy && io.godwit.api.migration.MigrationParameter.STALL_ACTIONS.get((int) stallAction).equals("postcopy")) {
            throw new IllegalArgumentException("stall-action postcopy needs capability postcopy-ram on both hosts"
                    + " (migrate_set_capability postcopy-ram on)");
        }
        if (!postcopy) {
            return;
        }
        for (var c : new io.godwit.api.migration.MigrationCapability[] {
                io.godwit.api.migration.MigrationCapability.VERIFY_RAM,
                io.godwit.api.migration.MigrationCapability.COPY_STORAGE}) {
            if (settings.capability(c)) {
                throw new IllegalArgumentException("capability postcopy-ram cannot be combined with " + c
                        + " (migrate_set_capability " + c + " off)");
            }
        }
        if (!settings.capability(io.godwit.api.migration.MigrationCapability.RETURN_PATH)) {
            throw new IllegalArgumentException("capability postcopy-ram needs return-path: page requests come "
                    + "back on it (migrate_set_capability return-path on)");
        }
    }

    /** The destination confirms once every page is in place (RESUMED at the end of postcopy). */
    private void confirm(long stopMicros) throws InterruptedException, IOException {
        ReturnPath rp = m.returnPath;
        rp.awaitEnd(CONFIRM_MILLIS);
        long running = rp.postcopyRunningMicros();
        if (running >= 0) {
            m.stats.observedDowntimeMs = Math.max(0, (running - stopMicros) / 1000);
            m.stats.downtimeMs = Switchover.downtimeMs(m.stats.downtimeMs, running, stopMicros);
        }
        if (rp.resumedMicros() >= 0) {
            return;
        }
        String error = rp.error();
        throw new IOException("the destination did not confirm that every page arrived"
                + (error != null ? " (" + error + ")" : ""));
    }
}
