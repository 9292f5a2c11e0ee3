package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.RemoteMemoryChannel;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.wire.Frame;
import io.godwit.wire.FrameReader;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.Complete;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.ReturnMessage;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination side, on its thread ({@code mig-<vm>-in}): accept one source, check its hello, load
 * the stream ({@link StreamLoader}) and start the guest only when everything arrived and checked. Any
 * failure leaves the VM in {@code inmigrate}: it never runs from a bad or partial stream.
 */
final class IncomingMigration implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(IncomingMigration.class);
    private static final long ACK_EVERY_BYTES = 4 << 20;
    /** An ACK also goes out this often, so a stream of small frames (zero pages) is acknowledged too. */
    private static final long ACK_EVERY_NANOS = 20_000_000L;
    /**
     * The reader's buffer holds frame headers; page bytes mostly bypass it, read straight into guest
     * memory, so it is kept small.
     */
    private static final int READ_BUFFER = 64 << 10;
    /** Words of the missing-page map per RECV_BITMAP: 4096 x 8 bytes fits the return frame's 64 KiB. */
    private static final int RECV_BITMAP_WORDS = 4096;

    final Vm vm;
    final MigrationStats stats = new MigrationStats();
    private final MigrationSettings settings;
    private final Object sendLock = new Object();
    /** The postcopy in progress here, or null. */
    private volatile io.godwit.api.memory.PostcopyRam postcopy;
    private volatile IncomingListener listener;
    private final Events events;
    private final boolean fresh;
    private Thread thread;
    private volatile MigrationChannel channel;
    /** TLS when tls-creds is set (the handshake runs before the stream is read), else plain. */
    volatile ChannelSecurity.Wrap secure = ChannelSecurity.Wrap.PLAIN;
    /** migrate-pause closed the channel: the pause says so rather than quoting the broken socket. */
    private volatile boolean pauseRequested;
    private volatile boolean cancelled;
    /** Set once the VM took its final state from the stream: from here this side's migration has completed. */
    private boolean guestStarted;
    /** The VM is being destroyed: a broken postcopy stream fails instead of pausing. */
    private volatile boolean vmGone;
    private FrameWriter returnPath;
    /** The hello says mapped-ram: RAM is in the file at fixed offsets, not in the stream. */
    private boolean mappedRam;
    private RamLoader ram;
    private StreamLoader loader;
    /** With capability multifd: the data channels and their receiver threads; null otherwise. */
    private volatile MultifdRecv multifd;
    /** The main stream applied, as of its last frame: the channel threads' acknowledgements add theirs to it. */
    private volatile long mainApplied;
    private final Object ackLock = new Object();
    /** Postcopy: pages asked for and not yet seen arriving; asked again after a recovery. */
    private final java.util.Set<Long> requested = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private long lastAck;
    /** What the last acknowledgement said the links moved (multifd: channels' bytes read, mid-batch). */
    private long lastMoved;
    private long lastAckNanos = System.nanoTime();

    /** With the default capabilities (no postcopy-ram): the fuzz and protocol tests' destination. */
    IncomingMigration(Vm vm, IncomingListener listener, boolean fresh, Events events) {
        this(vm, listener, fresh, new MigrationSettings(), events);
    }

    IncomingMigration(Vm vm, IncomingListener listener, boolean fresh, MigrationSettings settings, Events events) {
        this.vm = vm;
        this.settings = settings;
        this.listener = listener;
        this.fresh = fresh;
        this.events = events;
        this.stats.listenUri = listener.uri();
        this.stats.totalBytes = vm.memory().size();
        this.thread = Thread.ofPlatform().name("mig-" + vm.name() + "-in").unstarted(this);
    }

    void start() {
        events.status(vm.name(), MigrationStatus.SETUP);
        thread.start();
    }

    MigrationStatus status() {
        return stats.status;
    }

    private void setStatus(MigrationStatus s) {
        stats.status = s;
        events.status(vm.name(), s);
    }

    /**
     * migrate_cancel, or the transport went away. Once the guest was started here the migration has
     * completed on this side, and a cancel changes nothing: the source heard LOADED and stays paused.
     */
    void cancel() {
        synchronized (this) {
            if (guestStarted) {
                return;
            }
            cancelled = true;
        }
        closeQuietly();
    }

    /**
     * The VM is being destroyed: a cancel (the listener closes, so its address is free at once), and
     * this returns once the thread has ended (false if not within {@code millis}).
     */
    boolean endWithVm(long millis) throws InterruptedException {
        if (thread.getState() == Thread.State.NEW) {
            return true;
        }
        cancel();
        synchronized (this) {
            if (guestStarted) {
                // A postcopy runs the guest here: the cancel changed nothing, but the VM goes, so
                // the stream (or a recovery's listener) must too.
                vmGone = true;
                closeQuietly();
            }
        }
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    @Override
    public void run() {
        try {
            channel = acceptSecured();
            if (cancelled) {
                throw new IOException("cancelled");
            }
            setStatus(MigrationStatus.ACTIVE);
            FrameReader reader = new FrameReader(channel, READ_BUFFER);
            reader.readStreamHeader();
            Hello hello = readHello(reader);
            boolean verify = hello.getCapabilitiesList().contains(MigrationCapability.VERIFY_RAM.qemuName());
            mappedRam = hello.getCapabilitiesList().contains(MigrationCapability.MAPPED_RAM.qemuName());
            ram = new RamLoader(vm.memory(), fresh, registerMemory(), verify);
            // multifd's data channels come to the same listener, after the hello
            multifd = MultifdRecv.open(this, hello, listener, settings, ram, this::closeMain);
            closeListener();
            loader = new StreamLoader(this, reader, ram);
            resume(loader.load());
        } catch (Throwable e) {
            fail(e);
        } finally {
            closeListener();
            stats.totalMs = stats.elapsedMs();
        }
    }

    /**
     * The next source that passes the TLS handshake (tls-creds), or the first one without TLS. A source
     * that fails it never reaches the migration: one line in the log, the connection dropped, and the
     * listener waits for the next (QEMU fails the incoming migration instead; here a stray or hostile
     * peer cannot spoil a destination that waits for its real source). A plain-text source is told
     * why in its own protocol, an ERROR on its return path.
     */
    private MigrationChannel acceptSecured() throws IOException {
        while (true) {
            MigrationChannel plain = listener.accept();
            channel = plain;
            try {
                MigrationChannel c = secure.wrap(plain);
                stats.tls = ChannelSecurity.describe(c);
                return c;
            } catch (io.godwit.api.tls.TlsHandshakeException e) {
                if (cancelled) {
                    throw e;
                }
                LOG.warn("{}: refused a source on {}: {}", vm.name(), plain.name(), e.getMessage());
                if (e.plainPeer()) {
                    answerPlain(plain, e.getMessage());
                }
                closeQuietly(plain);
            } catch (IllegalArgumentException e) {
                closeQuietly(plain);
                throw new MigrationFailure(e.getMessage(), e);
            }
        }
    }

    private static void answerPlain(MigrationChannel plain, String why) {
        try {
            FrameWriter w = new FrameWriter(plain);
            w.writeMessage(FrameType.RETURN, ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.ERROR)
                    .setError("destination: " + why).build());
            w.flush();
        } catch (IOException | RuntimeException ignored) {
            // the peer is gone; it has nothing to hear
        }
    }

    private static void closeQuietly(MigrationChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.debug("closing a refused channel", e);
        }
    }

    private Hello readHello(FrameReader reader) throws IOException {
        Frame f = reader.next();
        if (f.type() != FrameType.HELLO) {
            throw new WireException("the stream starts with " + f.type() + ", not HELLO");
        }
        Hello hello = reader.readMessage(f, Hello.parser());
        if (hello.getCapabilitiesList().contains(MigrationCapability.RETURN_PATH.qemuName())) {
            returnPath = new FrameWriter(channel);
        }
        VmDescription.check(hello, vm);
        if (hello.getCapabilitiesList().contains(MigrationCapability.POSTCOPY_RAM.qemuName())
                && !settings.capability(MigrationCapability.POSTCOPY_RAM)) {
            // QEMU's POSTCOPY_ADVISE check: refused before anything loads, not when postcopy starts
            throw new MigrationFailure("the source has capability postcopy-ram on and this destination does not"
                    + " (migrate_set_capability " + vm.name() + " postcopy-ram on, before migrate_incoming)");
        }
        LOG.info("{}: receiving VM {} ({} bytes of RAM)", vm.name(), Printable.quote(hello.getVmName()), vm.memory().size());
        return hello;
    }

    /**
     * Over a transport with remote memory writes, registers every RAM block for the source's writes
     * and sends the descriptors back (QEMU's RDMA registration); true when it did. The hello was
     * checked first: a VM that does not match never exposes its memory.
     */
    private boolean registerMemory() throws IOException {
        if (!(channel instanceof RemoteMemoryChannel remote) || returnPath == null) {
            return false;
        }
        ReturnMessage.Builder m = ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.MEMORY_REGISTERED);
        for (io.godwit.api.memory.RamBlock block : vm.memory().blocks()) {
            m.addMemoryRegions(com.google.protobuf.ByteString.copyFrom(remote.register(block)));
        }
        send(m);
        LOG.info("{}: registered {} RAM block(s) for remote writes", vm.name(), vm.memory().blocks().size());
        return true;
    }

    /**
     * What this destination has applied, the figure every acknowledgement carries: the stream up to the
     * end of the last frame read, every frame before it processed (pages in guest memory, zero pages
     * filled, states loaded), plus the pages of the remote batches committed. Called between frames.
     * Frames read ahead into the reader's buffer do not count: the source's zero-page fence takes an
     * acknowledgement as a promise that every zero index it covers is applied ({@link RemoteRam}).
     */
    private long applied(FrameReader reader) {
        mainApplied = reader.bytesConsumed();
        return mainApplied + (ram != null ? ram.remoteBytes : 0) + multifdApplied(multifd);
    }

    private static long multifdApplied(MultifdRecv m) {
        return m == null ? 0 : m.bytesApplied();
    }

    /**
     * A multifd channel applied a frame, or read from its link: acknowledged as the main stream's are.
     * On that channel's thread.
     */
    void multifdApplied() throws IOException {
        synchronized (ackLock) {
            ack(mainApplied + multifdApplied(multifd));
        }
    }

    /** MULTIFD_FLUSH {@code n} on the main stream: every data channel's pages of the round are in memory. */
    void multifdFlush(long n) throws IOException {
        MultifdRecv m = multifd;
        if (m == null) {
            throw new WireException("a multifd FLUSH without capability multifd in the hello");
        }
        m.flush(n);
    }

    /** A data channel died: the main stream ends too, and the migration fails with the channel's reason. */
    private void closeMain() {
        MigrationChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing channel", e);
            }
        }
    }

    /** Answers a PING with what is applied so far, the PING included; called by the stream loader. */
    void pong(Command ping, FrameReader reader) throws IOException {
        synchronized (ackLock) {
            pongLocked(ping, reader);
        }
    }

    private void pongLocked(Command ping, FrameReader reader) throws IOException {
        lastAck = applied(reader);
        lastMoved = moved(lastAck);
        lastAckNanos = System.nanoTime();
        send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.PONG).setValue(ping.getValue())
                .setBytesReceived(lastAck).setBytesMoved(movedField(lastMoved)).setMonotonicNanos(lastAckNanos));
    }

    /**
     * Acknowledges what is applied every few MiB, for the source's bandwidth estimate and its fences;
     * called by the stream loader after each frame it processed.
     */
    void maybeAck(FrameReader reader, RamLoader ram) throws IOException {
        synchronized (ackLock) {
            ack(applied(reader));
        }
    }

    private void ack(long applied) throws IOException {
        MultifdRecv m = multifd;
        stats.transferred = applied;
        stats.normal = ram.normal + (m == null ? 0 : m.normal());
        stats.duplicate = ram.duplicate + (m == null ? 0 : m.duplicate());
        long now = System.nanoTime();
        long moved = moved(applied);
        if ((applied != lastAck || moved != lastMoved)
                && (moved - lastMoved >= ACK_EVERY_BYTES || now - lastAckNanos >= ACK_EVERY_NANOS)) {
            lastAck = applied;
            lastMoved = moved;
            lastAckNanos = now;
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.ACK).setBytesReceived(applied)
                    .setBytesMoved(movedField(moved)).setMonotonicNanos(now));
        }
    }

    /** bytes_moved is multifd's alone: without it (0), the source samples every acknowledgement as before. */
    private long movedField(long moved) {
        return multifd == null ? 0 : moved;
    }

    /**
     * What the links moved: {@code applied}, but for each multifd channel its bytes read so far, a batch
     * under way included (the source's bandwidth estimate; fences keep to what is applied).
     */
    private long moved(long applied) {
        MultifdRecv m = multifd;
        return m == null ? applied
                : Math.max(applied, mainApplied + (ram != null ? ram.remoteBytes : 0) + m.bytesMoved());
    }

    /** Whether the stream's RAM is mapped in its file (the hello's capability mapped-ram). */
    boolean mappedRam() {
        return mappedRam;
    }

    /** Whether this VM's memory is all zero (anonymous, never written): a zero page needs no write. */
    boolean fresh() {
        return fresh;
    }

    /** The channel as a file, for mapped-ram; a stream that is not one fails. */
    io.godwit.api.transport.SeekableChannel seekable() throws WireException {
        if (!(channel instanceof io.godwit.api.transport.SeekableChannel file)) {
            throw new WireException("a mapped-ram stream needs a seekable transport (file:), not " + channel.name());
        }
        return file;
    }

    /** Whether a POSTCOPY_START may come: the destination has the capability (checked at the hello too). */
    boolean postcopyAllowed() {
        return settings.capability(MigrationCapability.POSTCOPY_RAM);
    }

    /**
     * POSTCOPY_RUN: every page but the missing ones, and every state, is here. Postcopy starts on the
     * memory (the guest will fault on missing pages), then the guest runs, and the source hears it.
     * From here the guest is started on this side: the point of no return, as {@link #startGuest}.
     */
    void startPostcopy(io.godwit.api.dirty.DirtyBitmap missing, boolean sourceWasRunning, long stopMicros)
            throws IOException {
        synchronized (this) {
            if (cancelled) {
                throw new IOException("cancelled");
            }
            guestStarted = true;
        }
        io.godwit.api.memory.PostcopyRam pc = vm.memory().startPostcopy(missing, this::requestPage);
        postcopy = pc;
        stats.postcopyRam = pc;
        ram.postcopy(pc);
        vm.setStoppedState(RunState.PAUSED);
        if (sourceWasRunning && !vm.spec().startPaused()) {
            vm.cont();
        }
        long now = Switchover.wallMicros();
        stats.observedDowntimeMs = Math.max(0, (now - stopMicros) / 1000);
        setStatus(MigrationStatus.POSTCOPY_ACTIVE);
        LOG.info("{}: postcopy: the guest runs here with {} pages still missing", vm.name(), pc.missing());
        send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.POSTCOPY_RUNNING).setTimeMicros(now));
    }

    /**
     * A guest access faulted on a missing page: ask the source for it (QEMU's REQ_PAGES). On the thread
     * that faulted. A failed send is the stream's failure too, which aborts postcopy and so wakes it.
     */
    private void requestPage(long page) {
        requested.add(page);
        try {
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.REQ_PAGES).addPages(page));
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: requesting page {}: {}", vm.name(), page, e.toString());
        }
    }

    private void resume(Complete complete) throws IOException {
        MultifdRecv m = multifd;
        if (m != null) {
            m.finish(); // no channel may write guest memory once the guest runs
        }
        if (postcopy != null) {
            endPostcopy();
            return;
        }
        send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.LOADED).setTimeMicros(Switchover.wallMicros()));
        startGuest(complete);
        long now = Switchover.wallMicros();
        stats.observedDowntimeMs = Math.max(0, (now - complete.getSourceStopMicros()) / 1000);
        try {
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.RESUMED).setTimeMicros(now));
        } catch (IOException | RuntimeException e) {
            // The guest runs here: the migration completed, whatever happens to the return path now
            // (as in QEMU). The source heard LOADED, so it stays paused: the guest never runs twice.
            LOG.warn("{}: the source did not hear that the guest resumed here ({}); the migration completed all the same",
                    vm.name(), Printable.of(String.valueOf(e.getMessage())));
        }
        LOG.info("{}: incoming migration completed; guest-observed downtime {} ms", vm.name(), stats.observedDowntimeMs);
        stats.totalMs = stats.elapsedMs();
        stats.finalRates(); // the destination's throughput over its whole receive
        setStatus(MigrationStatus.COMPLETED);
        closeQuietly();
    }

    /** Every page arrived: the guest, running since POSTCOPY_RUN, no longer faults. */
    private void endPostcopy() throws IOException {
        postcopy.end();
        LOG.info("{}: postcopy completed: {}", vm.name(), postcopy.stats());
        try {
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.RESUMED).setTimeMicros(Switchover.wallMicros()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: the source did not hear that postcopy completed ({})", vm.name(),
                    Printable.of(String.valueOf(e.getMessage())));
        }
        stats.totalMs = stats.elapsedMs();
        stats.finalRates();
        setStatus(MigrationStatus.COMPLETED);
        closeQuietly();
    }

    /**
     * The point of no return on this side: the VM leaves {@code inmigrate} and runs if the source's guest
     * ran when it stopped. A cancel that came first wins, and the guest does not start.
     */
    private void startGuest(Complete complete) throws IOException {
        synchronized (this) {
            if (cancelled) {
                throw new IOException("cancelled");
            }
            guestStarted = true;
        }
        vm.setStoppedState(RunState.PAUSED);
        if (complete.getSourceWasRunning() && !vm.spec().startPaused()) {
            vm.cont(); // a destination created with -S stays paused, as QEMU's without autostart
        }
    }

    private void fail(Throwable e) {
        io.godwit.api.memory.PostcopyRam pc = postcopy;
        if (pc != null && pc.missing() > 0) {
            if (vmGone) {
                stats.error = "the VM was destroyed during postcopy";
                setStatus(MigrationStatus.FAILED);
            } else {
                pausePostcopy(pc, e);
            }
            return;
        }
        synchronized (this) {
            if (guestStarted) {
                // Only a bug gets here (resume catches the return path's failures): never report
                // failed for a guest that runs here, or management would restart the source.
                LOG.error("{}: error after the guest started here; the migration completed", vm.name(), e);
                setStatus(MigrationStatus.COMPLETED);
                closeQuietly();
                return;
            }
        }
        boolean expected = e instanceof MigrationFailure || e instanceof IOException || e instanceof StateFormatException;
        String channelFailure = multifd != null ? multifd.failure() : null;
        String why = Printable.of(cancelled ? "cancelled" : channelFailure != null ? channelFailure
                : expected ? e.getMessage() : e.toString());
        if (!expected) {
            LOG.error("{}: incoming migration failed", vm.name(), e);
        }
        stats.error = why;
        LOG.warn("{}: incoming migration failed: {}", vm.name(), why);
        try {
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.ERROR).setError("destination: " + why));
        } catch (IOException | RuntimeException ignored) {
            // the source is gone; it has nothing to hear
        }
        closeQuietly();
        setStatus(MigrationStatus.FAILED);
    }

    /**
     * QEMU's postcopy-paused: the stream broke while the guest runs here with pages missing. Everything
     * is kept: the vCPUs that touch a missing page wait for it, and {@code migrate_recover URI} lets the
     * source resume over a new channel.
     */
    private void pausePostcopy(io.godwit.api.memory.PostcopyRam pc, Throwable e) {
        String why = pauseRequested ? "migrate-pause" : Printable.of(String.valueOf(e.getMessage()));
        pauseRequested = false;
        stats.error = "postcopy paused with " + pc.missing() + " pages missing: " + why + "; resume with"
                + " migrate_recover URI here, then migrate -r URI on the source. If the source is gone for"
                + " good, the guest is lost: its vCPUs wait for pages that will never come";
        LOG.warn("{}: {}", vm.name(), stats.error);
        closeQuietly();
        setStatus(MigrationStatus.POSTCOPY_PAUSED);
    }

    /**
     * migrate-pause on this side: the channel (or, in postcopy-recover, the listener) goes down under
     * the postcopy, which pauses as after a network failure; the source sees the channel end and
     * pauses too. The caller checked the state.
     */
    void pausePostcopy() {
        pauseRequested = true;
        closeQuietly();
    }

    /**
     * {@code migrate_recover URI}: a paused postcopy waits for the source on {@code newListener}, on a
     * new {@code mig-<vm>-in} thread: POSTCOPY_RESUME, the map of pages still missing back (the
     * source sends only those), the requests that were lost again, then the stream goes on.
     */
    synchronized void recover(IncomingListener newListener) {
        if (stats.status != MigrationStatus.POSTCOPY_PAUSED) {
            throw new IllegalStateException("the incoming migration of VM '" + vm.name() + "' is " + stats.status
                    + ": migrate_recover resumes only a postcopy in postcopy-paused");
        }
        listener = newListener;
        stats.listenUri = newListener.uri();
        setStatus(MigrationStatus.POSTCOPY_RECOVER);
        thread = Thread.ofPlatform().name("mig-" + vm.name() + "-in").start(this::recoverRun);
    }

    private void recoverRun() {
        try {
            channel = acceptSecured();
            closeListener();
            FrameReader reader = new FrameReader(channel, READ_BUFFER);
            reader.readStreamHeader();
            Frame f = reader.next();
            if (f.type() != FrameType.COMMAND
                    || reader.readMessage(f, Command.parser()).getKind() != Command.Kind.POSTCOPY_RESUME) {
                throw new WireException("a recovery channel must start with POSTCOPY_RESUME, not " + f.type());
            }
            synchronized (sendLock) {
                returnPath = new FrameWriter(channel);
            }
            sendMissing();
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.RESUME_ACK));
            requestAgain();
            setStatus(MigrationStatus.POSTCOPY_ACTIVE);
            LOG.info("{}: postcopy recovered with {} pages missing", vm.name(), postcopy.missing());
            stats.error = null;
            loader.resumeWith(reader);
            resume(loader.load());
        } catch (Throwable e) {
            fail(e);
        } finally {
            closeListener();
        }
    }

    /** QEMU's RECV_BITMAP: the pages this side does not have, in runs that fit a return frame. */
    private void sendMissing() throws IOException {
        long pages = vm.memory().pages();
        long words = (pages + 63) >>> 6;
        for (long w = 0; w < words; w += RECV_BITMAP_WORDS) {
            ReturnMessage.Builder m = ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.RECV_BITMAP).setFirstWord(w);
            for (long i = w; i < Math.min(words, w + RECV_BITMAP_WORDS); i++) {
                long bits = 0;
                for (int b = 0; b < 64 && i * 64 + b < pages; b++) {
                    if (!postcopy.present(i * 64 + b)) {
                        bits |= 1L << b;
                    }
                }
                m.addWords(bits);
            }
            send(m);
        }
    }

    /** The requests the broken channel may have lost: every page asked for that has not arrived. */
    private void requestAgain() throws IOException {
        requested.removeIf(postcopy::present);
        java.util.List<Long> pages = java.util.List.copyOf(requested);
        for (int i = 0; i < pages.size(); i += RECV_BITMAP_WORDS) {
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.REQ_PAGES)
                    .addAllPages(pages.subList(i, Math.min(pages.size(), i + RECV_BITMAP_WORDS))));
        }
    }

    /** Any thread may send (postcopy's page requests come from faulting vCPUs), one message at a time. */
    private void send(ReturnMessage.Builder m) throws IOException {
        synchronized (sendLock) {
            if (returnPath != null) {
                returnPath.writeMessage(FrameType.RETURN, m.build());
                returnPath.flush();
            }
        }
    }

    private void closeListener() {
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("closing listener", e);
        }
    }

    private void closeQuietly() {
        closeListener();
        MultifdRecv m = multifd;
        if (m != null) {
            m.close();
        }
        closeMain();
    }

}
