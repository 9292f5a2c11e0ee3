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

    final Vm vm;
    final MigrationStats stats = new MigrationStats();
    private final IncomingListener listener;
    private final Events events;
    private final boolean fresh;
    private final Thread thread;
    private volatile MigrationChannel channel;
    private volatile boolean cancelled;
    /** Set once the VM took its final state from the stream: from here this side's migration has completed. */
    private boolean guestStarted;
    private FrameWriter returnPath;
    private RamLoader ram;
    private long lastAck;
    private long lastAckNanos = System.nanoTime();

    IncomingMigration(Vm vm, IncomingListener listener, boolean fresh, Events events) {
        this.vm = vm;
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
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    @Override
    public void run() {
        try {
            channel = listener.accept();
            closeListener();
            if (cancelled) {
                throw new IOException("cancelled");
            }
            setStatus(MigrationStatus.ACTIVE);
            FrameReader reader = new FrameReader(channel, READ_BUFFER);
            reader.readStreamHeader();
            readHello(reader);
            ram = new RamLoader(vm.memory(), fresh, registerMemory());
            Complete complete = new StreamLoader(this, reader, ram).load();
            resume(complete);
        } catch (Throwable e) {
            fail(e);
        } finally {
            closeListener();
            stats.totalMs = stats.elapsedMs();
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
        return reader.bytesConsumed() + (ram != null ? ram.remoteBytes : 0);
    }

    /** Answers a PING with what is applied so far, the PING included; called by the stream loader. */
    void pong(Command ping, FrameReader reader) throws IOException {
        lastAck = applied(reader);
        lastAckNanos = System.nanoTime();
        send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.PONG).setValue(ping.getValue())
                .setBytesReceived(lastAck).setMonotonicNanos(lastAckNanos));
    }

    /**
     * Acknowledges what is applied every few MiB, for the source's bandwidth estimate and its fences;
     * called by the stream loader after each frame it processed.
     */
    void maybeAck(FrameReader reader, RamLoader ram) throws IOException {
        long applied = applied(reader);
        stats.transferred = applied;
        stats.normal = ram.normal;
        stats.duplicate = ram.duplicate;
        long now = System.nanoTime();
        if (applied != lastAck
                && (applied - lastAck >= ACK_EVERY_BYTES || now - lastAckNanos >= ACK_EVERY_NANOS)) {
            lastAck = applied;
            lastAckNanos = now;
            send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.ACK).setBytesReceived(applied)
                    .setMonotonicNanos(now));
        }
    }

    private void resume(Complete complete) throws IOException {
        send(ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.LOADED));
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
        String why = Printable.of(cancelled ? "cancelled" : expected ? e.getMessage() : e.toString());
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

    private void send(ReturnMessage.Builder m) throws IOException {
        if (returnPath != null) {
            returnPath.writeMessage(FrameType.RETURN, m.build());
            returnPath.flush();
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
        MigrationChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing channel", e);
            }
        }
    }

}
