package io.godwit.coordinator.internal;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.policy.Decision;
import io.godwit.api.policy.PassSnapshot;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.RemoteMemoryChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.SectionStart;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One outgoing precopy migration on its thread ({@code mig-<vm>-out}), as QEMU's migration_thread:
 * setup, passes over the dirty bitmap until the policy says the rest fits the downtime-limit, then
 * stop-and-copy ({@link Switchover}). Any failure or cancel before the destination runs leaves the
 * source VM running with its memory intact.
 */
final class OutgoingMigration implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(OutgoingMigration.class);
    static final int RAM_SECTION = 1;
    /** Fewest milliseconds between two early syncs, so that a near-threshold guest does not sync-storm. */
    private static final long MIN_SYNC_INTERVAL_NANOS = 20_000_000L;
    /** How long an empty pass waits for the destination before the next sync. */
    private static final long IDLE_PASS_WAIT_MS = 20;
    /** How often the vCPU state saves are measured again (each costs the migration about a quantum). */
    private static final long SAVE_COST_EVERY_NANOS = 1_000_000_000L;

    final Vm vm;
    final MigrationSettings settings;
    final MigrationStats stats = new MigrationStats();
    final Bandwidth bandwidth = new Bandwidth();
    final SaveCosts saveCosts;
    private final Transport transport;
    private final String address;
    private final Events events;
    private final Thread thread;
    final CountDownLatch continueSignal = new CountDownLatch(1);

    volatile boolean cancelRequested;
    /** migrate_start_postcopy: the precopy loop ends at its next batch and postcopy takes over. */
    volatile boolean postcopyRequested;
    /** Set as precopy's stop-and-copy begins: a postcopy asked for from then on comes too late. */
    volatile boolean switchoverStarted;
    private final StallWatch stallWatch = new StallWatch();
    /** stall-action throttle: auto-converge from the stall on, whatever the capability says. */
    private boolean throttleForStall;
    volatile boolean pastPointOfNoReturn;
    /** migrate-pause closed the channel: the pause says so rather than quoting the broken socket. */
    volatile boolean pauseRequested;
    private volatile String abortReason;
    private volatile MigrationChannel channel;
    /** TLS when tls-creds is set (the handshake runs in setup and in a postcopy recovery), else plain. */
    volatile ChannelSecurity.Wrap secure = ChannelSecurity.Wrap.PLAIN;
    volatile FrameWriter writer;
    volatile ReturnPath returnPath;
    /** Read by the return path's thread too (in-flight bytes). */
    volatile RamSender sender;
    /** With capability multifd: the data channels and their threads; null otherwise. */
    volatile MultifdSend multifd;
    /** With multifd and mapped-ram: the threads writing pages into the file; null otherwise. */
    MappedRamChannels mappedChannels;
    /** verify-ram's page digests, updated as pages are sent; null when off. */
    PageDigests digests;
    /** Postcopy recovery: where {@code migrate -r} asked to resume, taken by the paused migration thread. */
    private final java.util.concurrent.SynchronousQueue<Runnable> resumeRequests = new java.util.concurrent.SynchronousQueue<>();
    DeviceIteration deviceIteration;
    /** mapped-ram: where the pages lie in the file; null without it. */
    MappedRam mapped;
    /**
     * The stream goes where nothing answers and everything is kept (exec, a pipe, a file without
     * mapped-ram): a stall ends it unless the user chose a stall-action. Set before {@link #start}.
     */
    boolean oneWayStream;
    /** Return-path off for this migration whatever the settings say (file:, see Coordinator). Set before {@link #start}. */
    boolean withoutReturnPath;
    RateLimit rateLimit;
    DirtyBitmap bitmap;
    /** Whether the guest ran when the switchover stopped it (not at setup: the user may stop or cont in precopy). */
    boolean wasRunning;
    boolean stoppedByUs;
    long lastSyncMs;
    private long lastSyncNanos;
    private long sentAtLastSync;
    /** Where the current pass began, for its record: ms from the start, and bytes sent by then. */
    private long passStartMs;
    private long passStartBytes;
    /** What saving every vCPU's state takes, measured while the guest runs ({@link SaveCosts}). */
    private long vcpuSaveNanos;
    private long vcpuSaveMeasuredNanos;

    OutgoingMigration(Vm vm, Transport transport, String address, MigrationSettings settings, Events events,
            SaveCosts saveCosts) {
        this.vm = vm;
        this.saveCosts = saveCosts;
        this.transport = transport;
        this.address = address;
        this.settings = settings;
        this.events = events;
        this.stats.totalBytes = vm.memory().size();
        this.thread = Thread.ofPlatform().name("mig-" + vm.name() + "-out").unstarted(this);
    }

    void start() {
        events.status(vm.name(), MigrationStatus.SETUP);
        thread.start();
    }

    MigrationStatus status() {
        return stats.status;
    }

    void setStatus(MigrationStatus s) {
        stats.status = s;
        events.status(vm.name(), s);
    }

    /** migrate_cancel: the migration thread notices at its next check; closing the channel unblocks it. */
    void cancel() {
        MigrationStatus s = stats.status;
        if (s.isFinal() || s == MigrationStatus.CANCELLING || pastPointOfNoReturn) {
            return;
        }
        cancelRequested = true;
        setStatus(MigrationStatus.CANCELLING);
        continueSignal.countDown();
        closeChannel();
    }

    /**
     * migrate_start_postcopy. Refused without the capability, over a transport that writes pages
     * remotely (postcopy's pages must go through the destination's placing, not into its RAM behind
     * the guest's back), and once precopy is over.
     */
    void startPostcopy() {
        if (!settings.capability(MigrationCapability.POSTCOPY_RAM)) {
            throw new IllegalStateException("postcopy-ram is not on for VM '" + vm.name()
                    + "' (migrate_set_capability " + vm.name() + " postcopy-ram on, before migrate)");
        }
        if (channel instanceof RemoteMemoryChannel) {
            throw new IllegalStateException("postcopy cannot run over transport '" + channel.name()
                    + "': it writes pages into the destination's memory directly");
        }
        MigrationStatus s = stats.status;
        if (s != MigrationStatus.ACTIVE && s != MigrationStatus.SETUP) {
            throw new IllegalStateException("the migration of VM '" + vm.name() + "' is " + s
                    + ": postcopy starts only from an active precopy");
        }
        postcopyRequested = true;
        if (switchoverStarted) {
            throw new IllegalStateException("too late for postcopy: the migration of VM '" + vm.name()
                    + "' is already in its switchover");
        }
    }

    /**
     * {@code migrate -r URI}: a paused postcopy resumes over a new channel to {@code address} on
     * {@code t}. The migration thread takes it; refused unless it waits in postcopy-paused.
     */
    void resumePostcopy(Transport t, String address) {
        if (stats.status != MigrationStatus.POSTCOPY_PAUSED
                || !offerResume(() -> reconnect(t, address))) {
            throw new IllegalStateException("the migration of VM '" + vm.name() + "' is " + stats.status
                    + ": only a postcopy in postcopy-paused can resume (migrate -r)");
        }
    }

    private boolean offerResume(Runnable reconnect) {
        try {
            return resumeRequests.offer(reconnect, 1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The paused migration thread waits here for {@code migrate -r}; returns the reconnect to run.
     * Throws when the migration is failed from outside meanwhile (its VM destroyed).
     */
    Runnable awaitResume() throws InterruptedException {
        while (true) {
            Runnable r = resumeRequests.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (r != null) {
                return r;
            }
            if (aborted()) {
                throw new MigrationFailure(abortReason);
            }
        }
    }

    /** Failed from outside: the transport went away or the VM is being destroyed. */
    boolean aborted() {
        return abortReason != null;
    }

    /**
     * Recovery's new channel: the stream header, POSTCOPY_RESUME, and a return path of its own that
     * brings back the destination's map of missing pages. Throws when the destination cannot be
     * reached or does not answer; the migration stays paused and may try again.
     */
    private void reconnect(Transport t, String address) {
        try {
            MigrationChannel c = secured(t.connectOutgoing(address));
            writer = new FrameWriter(c);
            stats.newChannel();
            writer.writeStreamHeader();
            writer.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.POSTCOPY_RESUME).build());
            writer.flush();
            returnPath = new ReturnPath(vm.name(), c, bandwidth, this::sentBytes);
            returnPath.expectRecvBitmap(bitmap.pages());
            returnPath.start();
            sender = new RamSender(vm.memory(), writer, stats, rateLimit, null);
        } catch (IOException e) {
            throw new MigrationFailure("cannot connect to " + t.getClass().getSimpleName() + " address " + address
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * migrate-pause: the channel goes down under the postcopy, which pauses as after a network failure
     * (the destination sees its stream end and pauses too). The caller checked the state.
     */
    void pausePostcopy() {
        pauseRequested = true;
        closeChannel();
    }

    /** Fails the migration from outside (its transport went away); the source runs on. */
    void abort(String why) {
        if (stats.status.isFinal() || pastPointOfNoReturn) {
            return;
        }
        forceFail(why);
    }

    private void forceFail(String why) {
        abortReason = why;
        continueSignal.countDown();
        closeChannel();
    }

    /**
     * The VM is being destroyed: returns once the migration's thread has ended, so that nothing reads
     * the VM's RAM after it is freed. Before the point of no return this is a cancel. After it, every
     * page went out and the destination may be starting the guest, so its confirmation gets up to
     * {@code millis} (closing the channel at once could cut the stream's end); then the channel closes
     * and the migration fails with the source paused, as after any unconfirmed end.
     */
    boolean endWithVm(long millis) throws InterruptedException {
        if (thread.getState() == Thread.State.NEW) {
            return true;
        }
        cancel();
        if (thread.join(java.time.Duration.ofMillis(millis))) {
            return true;
        }
        forceFail("VM '" + vm.name() + "' was destroyed");
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    void checkCancel() {
        if (cancelRequested) {
            throw new MigrationCancelled();
        }
        if (abortReason != null) {
            throw new MigrationFailure(abortReason);
        }
        if (returnPath != null && returnPath.error() != null) {
            throw new MigrationFailure(returnPath.error());
        }
    }

    @Override
    public void run() {
        try {
            setup();
            iterate();
            if (postcopyRequested) {
                new Postcopy(this).run();
            } else {
                switchoverStarted = true;
                new Switchover(this).run();
            }
        } catch (Throwable e) {
            // A cancel closes the channel under a blocked write: whatever that throws, it is a cancel
            // (QEMU's 4a228bcc99: cancelling never lands in failed).
            if (cancelRequested) {
                end(MigrationStatus.CANCELLED, null);
            } else {
                end(MigrationStatus.FAILED, describe(e));
            }
        }
    }

    private void setup() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        DeviceSections.requireDirtyLogs(vm);
        try {
            channel = transport.connectOutgoing(address);
        } catch (IOException e) {
            throw new MigrationFailure("cannot connect to the destination: " + e.getMessage(), e);
        }
        channel = secured(channel);
        checkCancel();
        long connected = System.nanoTime();
        writer = new FrameWriter(channel);
        writer.writeStreamHeader();
        writer.writeMessage(FrameType.HELLO, MultifdSend.hello(VmDescription.hello(vm, helloCapabilities()), settings));
        if (!withoutReturnPath && settings.capability(MigrationCapability.RETURN_PATH)) {
            returnPath = new ReturnPath(vm.name(), channel, bandwidth, this::sentBytes);
            returnPath.start();
        }
        openMultifd();
        if (returnPath != null) {
            measureRoundTrip();
        }
        long answered = System.nanoTime();
        vm.dirtyLogging().start();
        long logging = System.nanoTime();
        measureSaveCost();
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: setup: connected after {} us, hello answered after {} us, dirty logging on after {} us,"
                    + " vCPU saves measured after {} us", vm.name(), (connected - t0) / 1000, (answered - t0) / 1000,
                    (logging - t0) / 1000, (System.nanoTime() - t0) / 1000);
        }
        bitmap = new DirtyBitmap(vm.memory().pages());
        bitmap.setAll(); // the setup sync: everything is dirty once
        stats.syncCount = 1;
        stats.remainingPages = bitmap.pages();
        lastSyncNanos = System.nanoTime();
        events.pass(vm.name(), 1);
        writer.writeMessage(FrameType.SECTION_START,
                SectionStart.newBuilder().setSectionId(RAM_SECTION).setName("ram").setVersion(1).build());
        deviceIteration = new DeviceIteration(vm, settings.capability(MigrationCapability.COPY_STORAGE));
        deviceIteration.setup(writer);
        rateLimit = new RateLimit(settings);
        digests = settings.capability(MigrationCapability.VERIFY_RAM) ? new PageDigests(vm.memory().pages()) : null;
        sender = new RamSender(vm.memory(), writer, stats, rateLimit, remoteRam(), digests);
        if (settings.capability(MigrationCapability.MAPPED_RAM)) {
            mapped = MappedRam.start(channel, writer, vm.memory());
            sender.mapped(mapped);
            if (settings.capability(MigrationCapability.MULTIFD)) {
                mappedChannels = new MappedRamChannels(vm.name(), mapped, vm.memory().blocks(),
                        (int) settings.parameter(MigrationParameter.MULTIFD_CHANNELS));
                stats.multifd = () -> new io.godwit.api.migration.MigrationInfo.MultifdInfo(mappedChannels.channels(), "none",
                        mapped.writtenBytes(), mapped.writtenBytes(), mapped.writtenBytes());
                sender.mappedChannels(mappedChannels);
            }
        }
        if (settings.capability(MigrationCapability.XBZRLE)) {
            if (sender.remote() != null) {
                throw new MigrationFailure("capability xbzrle cannot be combined with transport '" + channel.name()
                        + "', which writes pages into the destination's memory (migrate_set_capability xbzrle off)");
            }
            stats.xbzrle = new Xbzrle(settings.parameter(MigrationParameter.XBZRLE_CACHE_SIZE));
            sender.xbzrle(stats.xbzrle);
        }
        if (multifd != null) {
            sender.multifd(multifd);
        }
        stats.setupMs = stats.elapsedMs();
        passStartMs = stats.setupMs;
        passStartBytes = sentBytes();
        checkCancel();
        setStatus(MigrationStatus.ACTIVE);
    }

    /**
     * Multifd's data channels, once the destination has the hello that says how many to accept (the
     * return path is up first, so a destination that refused the hello is heard, not a refused connect).
     */
    private void openMultifd() throws IOException {
        if (!settings.capability(MigrationCapability.MULTIFD) || settings.capability(MigrationCapability.MAPPED_RAM)) {
            return; // with mapped-ram multifd's channels are threads writing into the file (MappedRamChannels)
        }
        if (channel instanceof RemoteMemoryChannel) {
            throw new MigrationFailure("capability multifd cannot be combined with transport '" + channel.name()
                    + "', which writes pages into the destination's memory (migrate_set_capability multifd off)");
        }
        writer.flush();
        multifd = MultifdSend.open(vm, transport, address, settings, stats, secure);
        checkCancel();
    }

    /**
     * The TLS handshake (tls-creds), before any byte of the stream: a destination that fails it never
     * sees the VM. The plain channel is {@link #channel} meanwhile, so a cancel closes it.
     */
    private MigrationChannel secured(MigrationChannel plain) {
        channel = plain;
        try {
            MigrationChannel c = secure.wrap(plain);
            stats.tls = ChannelSecurity.describe(c);
            channel = c;
            return c;
        } catch (IOException | IllegalArgumentException e) {
            try {
                plain.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw new MigrationFailure(e.getMessage(), e);
        }
    }

    /**
     * Over a transport with remote memory writes, the destination registered its RAM before it answered
     * the first PING (QEMU's RDMA registration, part of setup-time); without the return path there is
     * no way back for the registration or the fences, so such a migration is refused.
     */
    private RemoteRam remoteRam() throws IOException {
        if (!(channel instanceof RemoteMemoryChannel remote)) {
            return null;
        }
        if (returnPath == null) {
            throw new MigrationFailure("transport '" + channel.name() + "' writes pages into the destination's "
                    + "memory, which needs capability return-path (migrate_set_capability return-path on)");
        }
        java.util.List<byte[]> regions = returnPath.memoryRegions();
        if (regions == null) {
            throw new MigrationFailure("the destination did not register its memory for remote writes");
        }
        return RemoteRam.attach(remote, regions, vm.memory(), writer, this::fence);
    }

    /** Waits until the destination acknowledged {@code mark} bytes; a PING makes it answer at once. */
    private void fence(long mark) throws IOException, InterruptedException {
        ping();
        while (!returnPath.awaitAcked(mark, 100)) {
            checkCancel();
            if (returnPath.closed()) {
                throw new MigrationFailure("the return path closed while waiting for the destination");
            }
        }
    }

    /** What the hello tells the destination: the enabled capabilities, less return-path where it is off by itself. */
    private java.util.List<String> helloCapabilities() {
        // multifd into a mapped-ram file has no data channels for a destination to accept: its pages
        // are in the file at their offsets, as one channel's are
        boolean fileMultifd = settings.capability(MigrationCapability.MAPPED_RAM);
        return settings.enabledCapabilities().stream()
                .filter(c -> !withoutReturnPath || !c.equals(MigrationCapability.RETURN_PATH.qemuName()))
                .filter(c -> !fileMultifd || !c.equals(MigrationCapability.MULTIFD.qemuName())).toList();
    }

    /**
     * Bytes of the migration sent so far: the stream's and, over remote memory writes, the pages
     * written. Called on the migration thread and the return path's.
     */
    long sentBytes() {
        RamSender s = sender;
        return s != null ? s.sentBytes() : writer.bytesWritten();
    }

    /** A PING through the destination: the round trip is part of every downtime, and a refused hello shows here. */
    private void measureRoundTrip() throws IOException, InterruptedException {
        ping();
        boolean answered = returnPath.awaitPong(10_000);
        checkCancel();
        if (!answered) {
            throw new MigrationFailure("the destination did not answer within 10 s");
        }
    }

    /**
     * Sends a PING stamped with its send time. One at setup and one per sync: the smallest round trip
     * wins, so a destination that was slow at setup does not inflate every later estimate.
     */
    private void ping() throws IOException {
        long stamp = System.nanoTime();
        returnPath.pingSent(stamp);
        writer.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.PING).setValue(stamp).build());
        writer.flush();
    }

    private void iterate() throws IOException, InterruptedException {
        while (true) {
            if (postcopyRequested) {
                return; // asked for before the first pass: every page is faulted in or pushed in postcopy
            }
            long sentBefore = stats.pagesHandled();
            sender.sendDirty(bitmap, this::gate);
            deviceIteration.iterate(writer);
            if (stats.pagesHandled() == sentBefore) {
                // Nothing was dirty: all that is left is data in flight to a destination still
                // loading it. Give it time instead of spinning on syncs.
                Thread.sleep(IDLE_PASS_WAIT_MS);
            }
            int throttle = vm.throttle(); // what the pass ran under; the decision below may change it
            sync();
            PassSnapshot pass = snapshot();
            stats.expectedDowntimeMs = pass.expectedDowntimeMs();
            recordPass(pass, throttle);
            if (postcopyRequested) {
                LOG.info("{}: switching to postcopy after {} passes", vm.name(), stats.syncCount);
                return;
            }
            Decision d = policy().decide(pass);
            if (stats.remainingPages == 0 && pass.expectedDowntimeMs() <= pass.downtimeLimitMs() * DefaultPolicy.MARGIN) {
                // Nothing is dirty: what is pending is only in flight, and another pass cannot
                // shrink that faster than the stop-and-copy drains it.
                d = Decision.SWITCHOVER;
            }
            LOG.debug("{}: pass {} pending {} bytes, {} MB/s sustained, expected downtime {} ms: {}", vm.name(),
                    pass.pass(), pass.pendingBytes(), (long) (pass.bandwidthBytesPerSecond() / 1e6),
                    pass.expectedDowntimeMs(), d.action());
            if (d.action() == Decision.Action.SWITCHOVER) {
                LOG.info("{}: switchover after {} passes, expected downtime {} ms{}", vm.name(), stats.syncCount,
                        pass.expectedDowntimeMs(), sender.remote() == null ? ""
                                : "; " + sender.remote().postedBytes() / 4096 + " pages written remotely, "
                                + sender.remote().fences() + " fences");
                return;
            }
            if (stallWatch.stalled(pass, settings.parameter(MigrationParameter.STALL_PASSES),
                    settings.parameter(MigrationParameter.STALL_SECONDS))) {
                d = onStall(pass, d);
                if (postcopyRequested) {
                    return;
                }
            }
            if (d.action() == Decision.Action.THROTTLE) {
                vm.setThrottle(d.throttlePercent());
                stats.throttle = d.throttlePercent();
            }
        }
    }

    /** The pass that the last sync closed, for {@code history}: what the policy saw. */
    private void recordPass(PassSnapshot pass, int throttle) {
        long now = stats.elapsedMs();
        long sent = sentBytes();
        long expected = pass.expectedDowntimeMs();
        stats.passes.add(new io.godwit.api.migration.MigrationPass(pass.pass() - 1, passStartMs, now,
                sent - passStartBytes, (long) pass.dirtyBytesPerSecond(), (long) pass.bandwidthBytesPerSecond(),
                expected == Long.MAX_VALUE ? -1 : expected, pass.downtimeLimitMs(), throttle,
                stats.remainingPages * 4096));
        passStartMs = now;
        passStartBytes = sent;
    }

    /** The switchover stops the guest now: from here the bytes count as the switchover's, not a pass's. */
    void switchoverStarts(boolean postcopy) {
        stats.postcopy = postcopy;
        stats.switchoverMs = stats.elapsedMs();
        passStartBytes = sentBytes();
    }

    /** The destination may run the guest from here: the switchover's bytes are counted. */
    void switchoverSent() {
        stats.switchoverBytes = sentBytes() - passStartBytes;
    }

    /**
     * The precopy stopped converging: say so once (the log, {@code info migrate}, an event), then do
     * what {@code stall-action} says. Returns the decision for this pass.
     */
    private Decision onStall(PassSnapshot pass, Decision d) {
        String why = StallWatch.describe(pass);
        if (stats.stall == null) {
            LOG.warn("{}: {}", vm.name(), why);
            events.stalled(vm.name(), why);
        }
        stats.stall = why;
        if (oneWayStream && !settings.isSet(MigrationParameter.STALL_ACTION)) {
            // Each pass only adds to what the far end keeps (exec:cat > vm.img fills the disk): give up.
            stats.error = why + "; " + channel.name() + " is a one-way stream that keeps every pass, so the"
                    + " migration was cancelled and the source runs on (migrate_set_parameter stall-action to choose"
                    + " otherwise, or mapped-ram with file:)";
            cancelRequested = true;
            throw new MigrationCancelled();
        }
        String action = MigrationParameter.STALL_ACTIONS.get((int) settings.parameter(MigrationParameter.STALL_ACTION));
        switch (action) {
            case "throttle" -> {
                throttleForStall = true;
                return policy().decide(pass);
            }
            case "postcopy" -> {
                LOG.info("{}: stall-action postcopy: switching to postcopy", vm.name());
                postcopyRequested = true;
            }
            case "cancel" -> {
                stats.error = why + "; stall-action cancel: the migration gave up and the source runs on";
                cancelRequested = true;
                throw new MigrationCancelled();
            }
            default -> { }
        }
        return d;
    }

    private DefaultPolicy policy() {
        return new DefaultPolicy(settings.capability(MigrationCapability.AUTO_CONVERGE) || throttleForStall,
                (int) settings.parameter(MigrationParameter.CPU_THROTTLE_INITIAL),
                (int) settings.parameter(MigrationParameter.CPU_THROTTLE_INCREMENT),
                (int) settings.parameter(MigrationParameter.MAX_CPU_THROTTLE));
    }

    /** After each batch: cancel, counters, and QEMU's cheap estimate against the threshold. */
    private boolean gate() {
        checkCancel();
        if (postcopyRequested) {
            return false;
        }
        sampleWrittenIfNoReturnPath();
        stats.updateRates();
        long sent = stats.pagesHandled();
        stats.remainingPages = Math.max(0, stats.remainingPages - (sent - sentAtLastSync));
        sentAtLastSync = sent;
        if (System.nanoTime() - lastSyncNanos < MIN_SYNC_INTERVAL_NANOS) {
            return true;
        }
        PassSnapshot pass = snapshot();
        stats.expectedDowntimeMs = pass.expectedDowntimeMs();
        // Stop the pass early only where the policy would switch over now (QEMU's cheap estimate).
        return policy().decide(pass).action() != Decision.Action.SWITCHOVER;
    }

    /** QEMU's migration_bitmap_sync: harvest the tracker and every source into the migration bitmap. */
    void sync() throws InterruptedException, IOException {
        if (returnPath != null && stats.status == MigrationStatus.ACTIVE) {
            ping();
        }
        long t0 = System.nanoTime();
        long harvested = vm.dirtyLogging().sync(bitmap);
        long t1 = System.nanoTime();
        lastSyncMs = (t1 - t0) / 1_000_000;
        long dt = t1 - lastSyncNanos;
        if (dt > 0 && stats.status == MigrationStatus.ACTIVE) {
            // The rate while the guest runs; the final sync with the vCPUs stopped would say 0.
            stats.dirtyPagesRate = (long) (harvested * 1e9 / dt);
        }
        lastSyncNanos = t1;
        if (stats.status == MigrationStatus.ACTIVE && t1 - vcpuSaveMeasuredNanos >= SAVE_COST_EVERY_NANOS) {
            measureSaveCost();
        }
        stats.syncCount++;
        stats.remainingPages = bitmap.count();
        sentAtLastSync = stats.pagesHandled();
        events.pass(vm.name(), stats.syncCount);
    }

    void sampleWrittenIfNoReturnPath() {
        if (returnPath == null) {
            long now = System.nanoTime();
            bandwidth.sample(now, sentBytes(), now, false); // what waits for the link is not known
        }
    }

    /** Measures what saving the vCPUs' state takes now (SaveCosts): at setup, then every second. */
    private void measureSaveCost() throws InterruptedException {
        vcpuSaveNanos = SaveCosts.vcpusNanos(vm);
        vcpuSaveMeasuredNanos = System.nanoTime();
    }

    /** The convergence inputs now: pending bytes include what is written but not yet acknowledged. */
    PassSnapshot snapshot() {
        long inFlight = returnPath != null ? Math.max(0, sentBytes() - returnPath.acked()) : 0;
        double bw = bandwidth.bytesPerSecond(System.nanoTime(), inFlight);
        if (bw < 0) {
            // No window yet: the average since setup of what the destination applied (bytes in socket
            // buffers are not bandwidth), or, without a return path, of what was written.
            long ms = Math.max(1, stats.elapsedMs() - Math.max(0, stats.setupMs));
            bw = (returnPath != null ? returnPath.acked() : sentBytes()) * 1000.0 / ms;
        }
        long pending = stats.remainingPages * 4096 + inFlight
                + (deviceIteration != null ? deviceIteration.pendingBytes() : 0);
        long rttMs = returnPath != null ? returnPath.rttMillis(1) : 1;
        // The final sync (it includes every vhost log scan), the round trip, and the vCPU and device
        // state saves as measured (SaveCosts), in whole ms.
        long saves = vcpuSaveNanos + saveCosts.devicesNanos(vm, vcpuSaveNanos / Math.max(1, vm.spec().vcpus()));
        long fixed = lastSyncMs + rttMs + (saves + 999_999) / 1_000_000 + verifyMs();
        return new PassSnapshot(stats.syncCount, pending, fixed, bw, stats.dirtyPagesRate * 4096.0,
                settings.parameter(MigrationParameter.DOWNTIME_LIMIT), vm.throttle(), stats.elapsedMs());
    }

    /**
     * What verify-ram adds to the stop-and-copy: the digests of the pages still dirty, at the cost per
     * page measured so far (1 us before that), on this side; the destination's, on pages it loads as
     * they arrive, is part of the rate it acknowledges.
     */
    private long verifyMs() {
        return digests == null ? 0 : (long) Math.ceil(stats.remainingPages * digests.nanosPerPage(1000) / 1e6);
    }

    /** Ends the migration; on failure or cancel the source runs on as it did before. */
    void end(MigrationStatus status, String error) {
        Thread.interrupted();
        if (error != null) {
            String why = Printable.of(error); // it may quote the destination's words
            stats.error = why;
            LOG.warn("{}: migration {}: {}", vm.name(), status, why);
        }
        try {
            if (returnPath != null) {
                returnPath.close();
            }
            if (mappedChannels != null) {
                mappedChannels.close(); // before the file closes under a write
            }
            closeChannel();
            if (multifd != null) {
                multifd.close();
            }
            if (deviceIteration != null) {
                deviceIteration.cleanup(); // a disk's dirty-block log must not outlive a failed copy
            }
            if (vm.dirtyLogging().active()) {
                vm.dirtyLogging().stop();
            }
            vm.setThrottle(0);
            stats.throttle = 0;
            if (status != MigrationStatus.COMPLETED && stoppedByUs) {
                resumeSource();
            }
        } catch (RuntimeException e) {
            // The VM may be gone (destroyed mid-migration); the status must still become final.
            LOG.warn("{}: cleaning up after the migration: {}", vm.name(), e.toString());
        } finally {
            stats.totalMs = stats.elapsedMs();
            if (status == MigrationStatus.COMPLETED) {
                stats.finalRates();
            }
            setStatus(status);
        }
    }

    private void resumeSource() {
        if (pastPointOfNoReturn) {
            vm.setStoppedState(RunState.PAUSED); // the destination may run the guest: never run it twice
            // A cancel that lost the race with COMPLETE has no error of its own.
            stats.error = (stats.error != null ? stats.error + "; " : "")
                    + "the destination may be running the guest, so the source stays paused";
            return;
        }
        vm.setStoppedState(RunState.PAUSED);
        if (wasRunning) {
            vm.cont();
        }
    }

    /**
     * Without a return path nothing confirms the end: the transport's orderly end is the last word
     * (exec waits for its command to exit 0 and fails with its exit status and stderr otherwise).
     */
    void endStreamWithoutReturnPath() throws IOException {
        MigrationChannel c = channel;
        if (c != null) {
            c.shutdownOutput();
        }
    }

    void closeChannel() {
        MultifdSend m = multifd;
        if (m != null) {
            m.closeChannels();
        }
        MigrationChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing {}", c.name(), e);
            }
        }
    }

    /** A data channel's failure; when the return path ended first, a moment's wait for the channel's reason. */
    private String channelFailure(MultifdSend m) {
        if (m.failure() == null && returnPath != null && returnPath.error() != null) {
            try {
                return m.awaitFailure(500);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
        return m.failure();
    }

    private String describe(Throwable e) {
        if (abortReason != null) {
            return abortReason;
        }
        MultifdSend m = multifd;
        if (m != null && channelFailure(m) != null) {
            return m.failure(); // the destination saw the same channel end, but this says which and why
        }
        String rp = returnPath != null ? returnPath.error() : null;
        if (rp != null && !(e instanceof MigrationFailure mf && rp.equals(mf.getMessage()))) {
            try {
                returnPath.join(1000); // the destination's own reason beats our broken pipe
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            rp = returnPath.error();
            if (rp != null && returnPath.destinationFailed()) {
                return rp;
            }
        }
        if (e instanceof MigrationFailure || e.getMessage() != null && !(e instanceof RuntimeException)) {
            return e.getMessage();
        }
        LOG.error("{}: migration failed", vm.name(), e);
        return e.toString();
    }
}
