package io.godwit.coordinator.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.Command;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The source's multifd phase (QEMU's multifd_send_*): {@code multifd-channels} data channels beside
 * the main one, opened after the hello, each with its sender thread ({@code mig-<vm>-mfd-<i>}). The
 * migration thread only picks dirty pages and queues them in batches; whichever channel is free takes
 * the next (QEMU hands each packet to the next idle channel), finds its zero pages, compresses and
 * writes it. Every round over the bitmap ends with {@link #sync}: a SYNC on every channel, written
 * after everything it took of this round and before anything of the next, then a FLUSH on the main
 * channel; the destination applies nothing past a SYNC until every channel reached it, so a page of
 * round n never lands after the same page of round n+1.
 *
 * <p>Called on the migration thread, except {@link #close}, which any thread may call.
 */
final class MultifdSend implements AutoCloseable {

    private static final long POLL_MS = 100;

    private final String vm;
    private final List<MultifdSendChannel> channels = new ArrayList<>();
    /** Batches and SYNCs, taken by whichever channel is free: one waiting per channel. */
    final java.util.concurrent.BlockingQueue<Object> work;
    private final MigrationStats stats;
    private final String compression;
    private volatile String failure;
    private volatile boolean closing;
    private long syncs;
    private int batchBlock = -1;
    private long[] batch = new long[WireLimits.MAX_BATCH_NORMAL];
    private int batchCount;

    private MultifdSend(String vm, int n, MigrationStats stats, String compression) {
        this.vm = vm;
        this.work = new java.util.concurrent.ArrayBlockingQueue<>(n);
        this.stats = stats;
        this.compression = compression;
    }

    /**
     * Opens the data channels to {@code address} on {@code transport}, each introduced by its id and
     * the VM's UUID, and starts their threads. The hello went out on the main channel first, so the
     * destination knows how many to accept.
     */
    static MultifdSend open(io.godwit.api.vm.Vm vm, Transport transport, String address, MigrationSettings settings,
            MigrationStats stats, ChannelSecurity.Wrap secure) throws IOException {
        int n = (int) settings.parameter(MigrationParameter.MULTIFD_CHANNELS);
        int codec = (int) settings.parameter(MigrationParameter.MULTIFD_COMPRESSION);
        int level = (int) settings.parameter(codec == MultifdCodec.ZSTD
                ? MigrationParameter.MULTIFD_ZSTD_LEVEL : MigrationParameter.MULTIFD_ZLIB_LEVEL);
        MultifdSend m = new MultifdSend(vm.name(), n, stats, MigrationParameter.MULTIFD_COMPRESSIONS.get(codec));
        try {
            for (int i = 0; i < n; i++) {
                MigrationChannel c;
                try {
                    c = secured(transport.connectOutgoing(address), secure); // tls-creds: each channel its own handshake, as QEMU
                } catch (IOException e) {
                    throw new MigrationFailure("cannot open multifd channel " + i + ": " + e.getMessage(), e);
                }
                MultifdSendChannel ch = new MultifdSendChannel(m, i, c, vm.memory().blocks(), MultifdCodec.of(codec, level));
                m.channels.add(ch);
                ch.init(VmDescription.uuidBytes(vm.uuid()));
            }
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        m.channels.forEach(ch -> ch.start("mig-" + vm.name() + "-mfd-" + ch.id));
        stats.multifd = m::info;
        return m;
    }

    /** {@code plain} through the TLS handshake (tls-creds), or closed when that fails. */
    static MigrationChannel secured(MigrationChannel plain, ChannelSecurity.Wrap secure) throws IOException {
        try {
            return secure.wrap(plain);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /** The hello with multifd's channel count and compression, when the capability is on. */
    static io.godwit.wire.proto.Hello hello(io.godwit.wire.proto.Hello hello, MigrationSettings settings) {
        if (!settings.capability(io.godwit.api.migration.MigrationCapability.MULTIFD)
                || settings.capability(io.godwit.api.migration.MigrationCapability.MAPPED_RAM)) {
            return hello; // into a mapped-ram file: no data channels (MappedRamChannels)
        }
        return hello.toBuilder()
                .setMultifdChannels((int) settings.parameter(MigrationParameter.MULTIFD_CHANNELS))
                .setMultifdCompression(MigrationParameter.MULTIFD_COMPRESSIONS.get(
                        (int) settings.parameter(MigrationParameter.MULTIFD_COMPRESSION)))
                .build();
    }

    /**
     * Refuses, before the migration starts, what multifd cannot be combined with (as QEMU up to 9.x:
     * postcopy; as QEMU: xbzrle, whose cache the main thread keeps), what this implementation does not
     * combine it with yet (verify-ram), and a zstd whose native library does not load on this host.
     */
    static void checkCapabilities(MigrationSettings settings) {
        if (!settings.capability(io.godwit.api.migration.MigrationCapability.MULTIFD)) {
            return;
        }
        for (var c : new io.godwit.api.migration.MigrationCapability[] {
                io.godwit.api.migration.MigrationCapability.POSTCOPY_RAM,
                io.godwit.api.migration.MigrationCapability.VERIFY_RAM,
                io.godwit.api.migration.MigrationCapability.XBZRLE}) {
            if (settings.capability(c)) {
                throw new IllegalArgumentException("capability multifd cannot be combined with " + c
                        + " yet (migrate_set_capability " + c + " off, or multifd off)");
            }
        }
        if (settings.parameter(MigrationParameter.MULTIFD_COMPRESSION) == MultifdCodec.ZSTD) {
            MultifdCodec.requireZstd();
        }
    }

    /** Data channels opened. */
    int channels() {
        return channels.size();
    }

    /**
     * Adds page {@code index} of block {@code block} to the batch; true when that filled the batch and
     * it went to a channel (the caller then asks its gate). {@code untouched}: the page was never
     * touched (the block said so this pass), so it is zero and its channel need not read it, which
     * would fault it in.
     */
    boolean add(int block, long index, boolean untouched) throws InterruptedException {
        if (block != batchBlock) {
            flush();
            batchBlock = block;
        }
        batch[batchCount++] = untouched ? ~index : index;
        if (batchCount < batch.length) {
            return false;
        }
        flush();
        return true;
    }

    /** Queues the batch being filled, if any, for the next free channel. */
    void flush() throws InterruptedException {
        if (batchCount == 0) {
            return;
        }
        put(new MultifdSendChannel.Batch(batchBlock, batch, batchCount));
        batch = new long[WireLimits.MAX_BATCH_NORMAL];
        batchCount = 0;
        updateStats();
    }

    /**
     * The end of a round (QEMU's multifd_send_sync_main): the last batch, a SYNC on every channel, each
     * written before this returns, then the FLUSH on the main channel that makes the destination wait
     * for all of them.
     */
    void sync(FrameWriter main) throws IOException, InterruptedException {
        flush();
        long n = ++syncs;
        MultifdSendChannel.Sync s = new MultifdSendChannel.Sync(n);
        for (int i = 0; i < channels.size(); i++) {
            put(s); // a channel that took one takes nothing more until all are written: one each
        }
        for (MultifdSendChannel ch : channels) {
            while (!ch.synced.tryAcquire(POLL_MS, TimeUnit.MILLISECONDS)) {
                check();
            }
        }
        for (MultifdSendChannel ch : channels) {
            ch.resume.release();
        }
        main.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.MULTIFD_FLUSH).setValue(n).build());
        main.flush();
        updateStats();
    }

    private void put(Object item) throws InterruptedException {
        while (!work.offer(item, POLL_MS, TimeUnit.MILLISECONDS)) {
            check();
        }
        check();
    }

    /** A channel that died fails the migration, with its reason. */
    private void check() {
        String f = failure;
        if (f != null) {
            throw new MigrationFailure(f);
        }
    }

    /** Called by a channel's thread when it cannot go on. The first failure is the migration's reason. */
    void failed(int id, Exception e) {
        if (closing) {
            return;
        }
        synchronized (this) {
            if (failure == null) {
                failure = "multifd channel " + id + " failed: " + Printable.of(String.valueOf(e.getMessage()));
                notifyAll();
            }
        }
        closeChannels(); // the others stop too: the migration is over
    }

    /** Why a data channel failed, or null. */
    String failure() {
        return failure;
    }

    /**
     * Why a data channel failed, waiting up to {@code millis} for one to say so: a channel whose link
     * dies makes the destination hang up, and the return path may report that before the channel's own
     * thread has recorded why. On the migration thread, when it fails.
     */
    synchronized String awaitFailure(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        for (long left = millis; failure == null && left > 0; left = (end - System.nanoTime()) / 1_000_000) {
            wait(left);
        }
        return failure;
    }

    /** Bytes written on the data channels so far. */
    long bytesWritten() {
        long n = 0;
        for (MultifdSendChannel ch : channels) {
            n += ch.writer.bytesWritten();
        }
        return n;
    }

    /** The page counters of the channel threads into the migration's, on the migration thread. */
    private void updateStats() {
        long normal = 0;
        long zero = 0;
        for (MultifdSendChannel ch : channels) {
            normal += ch.normal;
            zero += ch.duplicate;
        }
        stats.normal = normal;
        stats.duplicate = zero;
    }

    MigrationInfo.MultifdInfo info() {
        long pages = 0;
        long wire = 0;
        for (MultifdSendChannel ch : channels) {
            pages += ch.pageBytes;
            wire += ch.wireBytes;
        }
        return new MigrationInfo.MultifdInfo(channels.size(), compression, bytesWritten(), pages, wire);
    }

    /** Closes every data channel; their threads end. Any thread (a cancel closes them under a blocked write). */
    void closeChannels() {
        for (MultifdSendChannel ch : channels) {
            ch.closeChannel();
        }
    }

    /** The end of the migration, whatever its outcome: channels closed, threads ended, native codecs freed. */
    @Override
    public void close() {
        closing = true;
        closeChannels();
        for (MultifdSendChannel ch : channels) {
            ch.stop();
        }
    }
}
