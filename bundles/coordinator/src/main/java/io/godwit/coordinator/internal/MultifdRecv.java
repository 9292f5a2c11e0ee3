package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.wire.FrameReader;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.Hello;
import java.io.IOException;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The destination's multifd phase (QEMU's multifd_recv_*): accepts the data channels the hello
 * announced, checks each one's introduction, and runs a receiver thread per channel
 * ({@code mig-<vm>-mfd-in-<i>}). Every channel's SYNC and the main channel's FLUSH meet at one
 * barrier: no channel applies a page of the next round before every channel applied this round, and
 * the main stream goes on (to the device state and the completion) only when every page before the
 * FLUSH is in memory.
 *
 * <p>{@link #flush} and {@link #finish} run on the incoming migration thread; {@link #close} on any.
 */
final class MultifdRecv implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MultifdRecv.class);
    /** How long the source may take to open every data channel after its hello. */
    private static final long ACCEPT_MILLIS = 10_000;
    /** How long a channel's thread may take to end once its channel is closed. */
    private static final long JOIN_MILLIS = 5_000;

    private final String vm;
    private final MultifdRecvChannel[] channels;
    /** The channels and the main stream: one phase per round. Terminated when the migration fails. */
    private final Phaser barrier;
    private final String compression;
    private final Runnable abortMain;
    private volatile String failure;
    private volatile boolean closing;
    private long flushes;

    private MultifdRecv(String vm, int n, String compression, Runnable abortMain) {
        this.vm = vm;
        this.channels = new MultifdRecvChannel[n];
        this.barrier = new Phaser(n + 1);
        this.compression = compression;
        this.abortMain = abortMain;
    }

    /**
     * Accepts and starts the data channels a hello with capability multifd announced, or returns null
     * for a hello without it. Refuses a source with multifd when this destination has it off (QEMU:
     * it must be set before migrate_incoming), and a count or a compression out of range.
     *
     * @param abortMain closes the main channel: a dying data channel fails the whole migration
     */
    static MultifdRecv open(IncomingMigration in, Hello hello, IncomingListener listener, MigrationSettings settings,
            RamLoader ram, Runnable abortMain) throws IOException {
        if (!hello.getCapabilitiesList().contains(MigrationCapability.MULTIFD.qemuName())) {
            return null;
        }
        if (!settings.capability(MigrationCapability.MULTIFD)) {
            throw new MigrationFailure("the source has capability multifd on and this destination does not"
                    + " (migrate_set_capability " + in.vm.name() + " multifd on, before migrate_incoming)");
        }
        int n = hello.getMultifdChannels();
        try {
            MigrationParameter.MULTIFD_CHANNELS.check(n);
        } catch (IllegalArgumentException e) {
            throw new WireException("the hello announces " + Integer.toUnsignedString(n) + " multifd channels: "
                    + e.getMessage());
        }
        int codec = MigrationParameter.MULTIFD_COMPRESSIONS.indexOf(hello.getMultifdCompression());
        if (codec < 0) {
            throw new WireException("unknown multifd-compression '" + Printable.quote(hello.getMultifdCompression()) + "'");
        }
        if (codec == MultifdCodec.ZSTD) {
            try {
                MultifdCodec.requireZstd();
            } catch (IllegalArgumentException e) {
                throw new MigrationFailure(e.getMessage());
            }
        }
        MultifdRecv m = new MultifdRecv(in.vm.name(), n, hello.getMultifdCompression(), abortMain);
        try {
            m.accept(listener, hello.getUuid().toByteArray(), ram, codec, in);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        in.stats.multifd = m::info;
        return m;
    }

    private void accept(IncomingListener listener, byte[] uuid, RamLoader ram, int codec, IncomingMigration in)
            throws IOException {
        // accept() has no timeout: a source that never opens its channels must not hold this side forever
        Thread watchdog = Thread.ofPlatform().daemon().name("mig-" + vm + "-mfd-accept").start(() -> {
            try {
                Thread.sleep(ACCEPT_MILLIS);
                listener.close();
            } catch (InterruptedException | IOException e) {
                // all accepted in time, or closed anyway
            }
        });
        try {
            for (int k = 0; k < channels.length; k++) {
                MigrationChannel c;
                try {
                    c = MultifdSend.secured(listener.accept(), in.secure); // tls-creds: each its own handshake
                } catch (IOException e) {
                    throw new MigrationFailure("the source opened " + k + " of " + channels.length
                            + " multifd channels: " + e.getMessage(), e);
                }
                introduce(c, uuid, ram, codec, in);
            }
        } finally {
            watchdog.interrupt();
        }
        for (MultifdRecvChannel ch : channels) {
            ch.start("mig-" + vm + "-mfd-in-" + ch.id);
        }
    }

    /** Reads a channel's introduction: the stream header, MULTIFD_INIT with a new id and this VM's UUID. */
    private void introduce(MigrationChannel c, byte[] uuid, RamLoader ram, int codec, IncomingMigration in)
            throws IOException {
        try {
            FrameReader reader = new FrameReader(new Moving(c, in), 64 << 10);
            reader.readStreamHeader();
            var f = reader.next();
            var init = f.type() == io.godwit.wire.FrameType.COMMAND
                    ? reader.readMessage(f, io.godwit.wire.proto.Command.parser()) : null;
            if (init == null || init.getKind() != io.godwit.wire.proto.Command.Kind.MULTIFD_INIT) {
                throw new WireException("a multifd channel must start with MULTIFD_INIT");
            }
            long id = init.getValue();
            if (id >= channels.length || channels[(int) id] != null) {
                throw new WireException("multifd channel id " + Long.toUnsignedString(id) + " is out of range or"
                        + " taken (" + channels.length + " channels)");
            }
            if (!java.util.Arrays.equals(uuid, init.getUuid().toByteArray())) {
                throw new WireException("multifd channel " + id + " belongs to another VM's migration");
            }
            channels[(int) id] = new MultifdRecvChannel(this, (int) id, c, reader, ram.channelLoader(),
                    MultifdCodec.of(codec, 1), in::multifdApplied);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The main channel's FLUSH {@code n}: waits until every channel has applied its pages up to its
     * SYNC {@code n}, then lets them all go on.
     */
    void flush(long n) throws IOException {
        if (n != flushes + 1) {
            throw new WireException("multifd FLUSH " + Long.toUnsignedString(n) + " after " + flushes);
        }
        flushes = n;
        meet();
    }

    /** A channel's SYNC, or the main channel's FLUSH: waits for the others at the barrier. */
    void meet() throws MigrationFailure {
        int phase = barrier.arrive();
        try {
            while (phase >= 0) {
                try {
                    phase = barrier.awaitAdvanceInterruptibly(phase, 100, TimeUnit.MILLISECONDS);
                    if (phase >= 0) {
                        return;
                    }
                } catch (TimeoutException e) {
                    if (closing) {
                        break;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new MigrationFailure(failure != null ? failure : "multifd ended");
    }

    /** Called by a channel's thread that cannot go on: the migration fails with its reason. */
    void failed(int id, Exception e) {
        if (closing) {
            return;
        }
        synchronized (this) {
            if (failure == null) {
                failure = "multifd channel " + id + ": " + Printable.of(String.valueOf(e.getMessage()));
                LOG.warn("{}: {}", vm, failure);
            }
        }
        barrier.forceTermination();
        abortMain.run();
    }

    /** Why a data channel failed, or null. */
    String failure() {
        return failure;
    }

    /**
     * The completion arrived: every page came before the last FLUSH. The channels close, and their
     * threads must be gone before the guest may start (nothing may write its memory after that).
     */
    void finish() throws MigrationFailure {
        close();
        for (MultifdRecvChannel ch : channels) {
            if (ch != null && ch.alive()) {
                throw new MigrationFailure("multifd channel " + ch.id + " did not stop");
            }
        }
        if (failure != null) {
            throw new MigrationFailure(failure);
        }
    }

    /** Bytes the channels read off their links so far, mid-batch too (at least {@link #bytesApplied}). */
    long bytesMoved() {
        long n = 0;
        for (MultifdRecvChannel ch : channels) {
            n += ch == null ? 0 : ch.moved();
        }
        return n;
    }

    /** Bytes the channels applied so far (whole batches and syncs). */
    long bytesApplied() {
        long n = 0;
        for (MultifdRecvChannel ch : channels) {
            n += ch == null ? 0 : ch.applied;
        }
        return n;
    }

    long normal() {
        long n = 0;
        for (MultifdRecvChannel ch : channels) {
            n += ch == null ? 0 : ch.loader.normal;
        }
        return n;
    }

    long duplicate() {
        long n = 0;
        for (MultifdRecvChannel ch : channels) {
            n += ch == null ? 0 : ch.loader.duplicate;
        }
        return n;
    }

    MigrationInfo.MultifdInfo info() {
        long pages = 0;
        long wire = 0;
        for (MultifdRecvChannel ch : channels) {
            if (ch != null) {
                pages += ch.pageBytes;
                wire += ch.wireBytes;
            }
        }
        return new MigrationInfo.MultifdInfo(channels.length, compression, bytesApplied(), pages, wire);
    }

    /** Closes every data channel and waits for the threads (any thread; again is harmless). */
    @Override
    public void close() {
        closing = true;
        barrier.forceTermination();
        for (MultifdRecvChannel ch : channels) {
            if (ch != null) {
                ch.closeChannel();
            }
        }
        for (MultifdRecvChannel ch : channels) {
            if (ch != null) {
                ch.join(JOIN_MILLIS);
            }
        }
    }

    /**
     * A data channel's link, read by its receiver thread: every read tells the destination's
     * acknowledgements (at most every {@link #MOVED_EVERY_NANOS}), so a channel in the middle of a long
     * batch on a slow link still says what it moves. Its applied bytes stay put until the batch ends,
     * and with the other channels waiting at the round's SYNC no acknowledgement would come meanwhile:
     * the source's estimate fell to half of what the channels together moved.
     */
    private static final class Moving implements java.nio.channels.ReadableByteChannel {

        private static final long MOVED_EVERY_NANOS = 10_000_000L;
        private final MigrationChannel inner;
        private final IncomingMigration in;
        private long toldNanos = System.nanoTime();

        Moving(MigrationChannel inner, IncomingMigration in) {
            this.inner = inner;
            this.in = in;
        }

        @Override
        public int read(java.nio.ByteBuffer dst) throws IOException {
            int n = inner.read(dst);
            long now = System.nanoTime();
            if (n > 0 && now - toldNanos >= MOVED_EVERY_NANOS) {
                toldNanos = now;
                in.multifdApplied();
            }
            return n;
        }

        @Override
        public boolean isOpen() {
            return inner.isOpen();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
