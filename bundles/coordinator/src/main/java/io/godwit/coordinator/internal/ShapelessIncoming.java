package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import io.godwit.wire.Frame;
import io.godwit.wire.FrameReader;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.ReturnMessage;
import java.io.IOException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A destination without a VM yet ({@code vm_create NAME --incoming URI} with no shape), on its thread
 * {@code mig-<name>-hello}: accepts one source, reads its header and hello, makes the VM from the
 * hello ({@link StreamShape}) and checks the hello against it ({@link VmDescription#check}), then
 * hands the channel, read again from its start, to an {@link IncomingMigration} of that VM. A hello
 * this host cannot make a VM from fails here: no VM is made, none runs, and the source hears why.
 */
final class ShapelessIncoming implements Runnable {

    /** What the coordinator does with the VM once made: start its incoming migration on the channel. */
    interface Handover {
        void start(Vm vm, IncomingListener channel, ShapelessIncoming from);
    }

    private static final Logger LOG = LoggerFactory.getLogger(ShapelessIncoming.class);

    final String name;
    final String scheme;
    final io.godwit.api.transport.Transport transport;
    final MigrationStats stats = new MigrationStats();
    private final VmSpec local;
    private final Map<String, String> deviceMap;
    private final IncomingListener listener;
    private final VmManager vms;
    private final Handover handover;
    private final Thread thread;
    private volatile MigrationChannel channel;
    private volatile boolean cancelled;

    ShapelessIncoming(VmSpec local, Map<String, String> deviceMap, String scheme, io.godwit.api.transport.Transport transport,
            IncomingListener listener, VmManager vms, Handover handover) {
        this.name = local.name();
        this.local = local;
        this.deviceMap = Map.copyOf(deviceMap);
        this.scheme = scheme;
        this.transport = transport;
        this.listener = listener;
        this.vms = vms;
        this.handover = handover;
        this.stats.listenUri = listener.uri();
        this.thread = Thread.ofPlatform().name("mig-" + name + "-hello").unstarted(this);
    }

    void start() {
        thread.start();
    }

    MigrationStatus status() {
        return stats.status;
    }

    MigrationInfo info() {
        return stats.snapshot();
    }

    /** Stops waiting (vm_destroy, migrate_cancel): the listener closes, the name is free. */
    void cancel() throws InterruptedException {
        cancelled = true;
        closeQuietly(listener);
        closeQuietly(channel);
        thread.join(10_000);
    }

    @Override
    public void run() {
        Vm vm = null;
        ReplayChannel replay = null;
        try {
            replay = ReplayChannel.of(listener.accept());
            channel = replay;
            closeQuietly(listener);
            if (cancelled) {
                throw new IOException("cancelled");
            }
            stats.status = MigrationStatus.ACTIVE;
            FrameReader reader = new FrameReader(replay, 64 << 10);
            reader.readStreamHeader();
            Frame f = reader.next();
            if (f.type() != FrameType.HELLO) {
                throw new WireException("the stream starts with " + f.type() + ", not HELLO");
            }
            Hello hello = reader.readMessage(f, Hello.parser());
            try {
                VmSpec spec = StreamShape.spec(hello, local, deviceMap, vms);
                vm = vms.create(spec);
                VmDescription.check(hello, vm);
            } catch (MigrationFailure e) {
                throw refused(hello, replay, e.getMessage());
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw refused(hello, replay, "the source's VM cannot be made here: " + e.getMessage());
            }
            LOG.info("{}: made from the source's hello: {}", name, vm.spec());
            replay.replay();
            handover.start(vm, replay.asListener(stats.listenUri), this);
        } catch (Throwable e) {
            destroy(vm);
            closeQuietly(replay);
            boolean expected = e instanceof MigrationFailure || e instanceof IOException;
            stats.error = Printable.of(cancelled ? "cancelled" : expected ? e.getMessage() : e.toString());
            if (!expected) {
                LOG.error("{}: incoming migration failed", name, e);
            }
            LOG.warn("{}: incoming migration failed before a VM was made: {}", name, stats.error);
            stats.status = cancelled ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
        } finally {
            closeQuietly(listener);
        }
    }

    /** The source hears why (with a return path), as from a destination whose VM refused the hello. */
    private static MigrationFailure refused(Hello hello, MigrationChannel channel, String why) {
        if (hello.getCapabilitiesList().contains(MigrationCapability.RETURN_PATH.qemuName())) {
            try {
                FrameWriter w = new FrameWriter(channel);
                w.writeMessage(FrameType.RETURN, ReturnMessage.newBuilder().setKind(ReturnMessage.Kind.ERROR)
                        .setError("destination: " + Printable.of(why)).build());
                w.flush();
            } catch (IOException | RuntimeException ignored) {
                // the source is gone; it has nothing to hear
            }
        }
        return new MigrationFailure(why);
    }

    private void destroy(Vm vm) {
        if (vm == null) {
            return;
        }
        try {
            vms.destroy(vm.name());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.debug("{}: destroying the VM made from a refused hello", name, e);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing", e);
            }
        }
    }
}
