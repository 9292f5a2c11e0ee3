package io.godwit.virtio.net.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import io.godwit.virtio.common.internal.EventNotifier;
import io.godwit.virtio.common.internal.VirtioLoad;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtio-net front end (QEMU's VirtIONet with a vhost-net backend): features, MAC, status, one
 * queue pair of which the rx queue carries traffic. It owns the vhost instance, registers its log as
 * a dirty log source and the guest's driver with the kernel. At switchover the backend stops
 * (GET_VRING_BASE) and its index is saved; on the destination it is restored (SET_VRING_BASE), the
 * backend restarts and the device announces itself.
 *
 * <p>Lifecycle and state calls come from the VM's lifecycle thread with the vCPUs stopped;
 * {@link #driverOk} comes from vCPU 0; the vhost log's start and stop from the migration thread. All
 * hold this object's monitor, and only {@link #programFeatures} sets vhost's features.
 */
final class VirtioNet implements Device {

    static final int VERSION = 1;
    static final long F_MAC = 1L << 5; // VIRTIO_NET_F_MAC
    static final long F_STATUS = 1L << 16; // VIRTIO_NET_F_STATUS
    static final long F_VERSION_1 = 1L << 32; // VIRTIO_F_VERSION_1
    static final int STATUS_DRIVER_OK = 0x0f; // ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK

    private static final Logger LOG = LoggerFactory.getLogger(VirtioNet.class);

    private final DeviceContext ctx;
    private final NetOptions opts;
    private final Layout layout;
    private final RawMemory ram;
    private final TapGenerator tap;
    private final VhostNet vhost;
    private final EventNotifier kick = new EventNotifier();
    private final EventNotifier call = new EventNotifier();
    private final VhostLog log;
    private final List<AutoCloseable> handles = new ArrayList<>();
    private final long hostFeatures = F_MAC | F_STATUS | F_VERSION_1;

    private volatile long ackedFeatures;
    private volatile int status;
    private long descGpa;
    private long availGpa;
    private long usedGpa;
    private int lastAvailIdx;
    private boolean running;
    private boolean announcePending;
    /** The migration's vhost log while dirty logging is on (log_global_start..stop), else null. */
    private DirtyBitmap vhostLog;

    VirtioNet(DeviceContext ctx, NetOptions opts) {
        this.ctx = ctx;
        this.opts = opts;
        long base = opts.base() >= 0 ? opts.base() : ctx.memory().size() - Layout.size(opts.queueSize());
        this.layout = new Layout(base, opts.queueSize());
        this.ram = new RawMemory(ctx.memory(), base, layout.size());
        this.tap = new TapGenerator(opts.rxRate());
        this.vhost = new VhostNet("vhost-" + ctx.vmName() + "-" + ctx.id(), ram, layout, tap, opts.vhostLog());
        vhost.setVringKick(kick);
        vhost.setVringCall(call);
        this.log = new VhostLog("vhost-" + ctx.id(), this, ctx.memory().pages());
    }

    VhostNet vhost() {
        return vhost;
    }

    long ackedFeatures() {
        return ackedFeatures;
    }

    Layout layout() {
        return layout;
    }

    VhostLog log() {
        return log;
    }

    @Override
    public void realize() {
        ctx.reserveMemory(layout.base(), layout.size());
        handles.add(ctx.registerDirtyLogSource(log));
        handles.add(ctx.attachGuestDriver(new NetDriver(layout, this, kick, call)));
        LOG.info("{}: virtio-net {} rx queue of {} at 0x{} ({} KiB), rx-rate {}/s{}", ctx.vmName(), ctx.id(),
                layout.queueSize(), Long.toHexString(layout.base()), layout.size() >> 10, opts.rxRate(),
                opts.vhostLog() ? "" : ", vhost logging OFF (test only)");
    }

    @Override
    public boolean writesGuestMemoryDirectly() {
        return true;
    }

    /** The driver wrote DRIVER_OK: negotiate, program the rings into vhost, start it if the VM runs. */
    synchronized void driverOk(long desc, long avail, long used) {
        ackedFeatures = hostFeatures;
        descGpa = desc;
        availGpa = avail;
        usedGpa = used;
        lastAvailIdx = 0;
        status = STATUS_DRIVER_OK;
        programFeatures();
        if (running) {
            startBackend();
        }
    }

    /**
     * log_global_start from the migration thread: under this monitor, so that a concurrent
     * {@link #driverOk} on vCPU 0 cannot program the features from a stale view of the log and turn
     * VHOST_F_LOG_ALL off again (vhost would log nothing for the whole migration). The log base goes in
     * before the feature bit.
     */
    synchronized void startVhostLogging(DirtyBitmap log) {
        vhostLog = log;
        vhost.setLogBase(log);
        programFeatures();
    }

    /** log_global_stop: the feature bit goes before the log base, under this monitor (see start). */
    synchronized void stopVhostLogging() {
        vhostLog = null;
        programFeatures();
        vhost.setLogBase(null);
    }

    /** VHOST_SET_FEATURES from the one place that knows both the acked features and the log state. */
    private void programFeatures() {
        vhost.setFeatures(ackedFeatures | (vhostLog != null ? VhostNet.F_LOG_ALL : 0));
    }

    private void startBackend() {
        vhost.setVringBase(lastAvailIdx);
        vhost.start();
    }

    @Override
    public synchronized void reset() {
        pause();
        status = 0;
        ackedFeatures = 0;
        lastAvailIdx = 0;
    }

    @Override
    public synchronized void pause() {
        running = false;
        if (vhost.running()) {
            lastAvailIdx = vhost.getVringBase(); // vhost_virtqueue_stop
        }
    }

    @Override
    public synchronized void resume() {
        running = true;
        if (status == STATUS_DRIVER_OK && !vhost.running()) {
            startBackend();
            if (announcePending) {
                announcePending = false;
                tap.announce(); // qemu_announce_self: the peer learns the VM's new place
                LOG.info("{}: {} announced {} after migration", ctx.vmName(), ctx.id(), opts.mac());
            }
        }
    }

    @Override
    public synchronized void unrealize() {
        pause();
        for (AutoCloseable h : handles.reversed()) {
            try {
                h.close();
            } catch (Exception e) {
                LOG.debug("closing {}", h, e);
            }
        }
        handles.clear();
    }

    @Override
    public int stateVersion() {
        return VERSION;
    }

    @Override
    public synchronized void saveState(StateOutput out) {
        out.writeLong(hostFeatures);
        out.writeLong(ackedFeatures);
        out.writeInt(status);
        out.writeString(opts.mac());
        out.writeInt(1); // queue pairs
        out.writeInt(layout.queueSize());
        out.writeLong(descGpa);
        out.writeLong(availGpa);
        out.writeLong(usedGpa);
        out.writeInt(lastAvailIdx);
        if (tap.nextSeq() != 0) {
            out.subsection("tap", s -> s.writeLong(tap.nextSeq()));
        }
    }

    @Override
    public synchronized void loadState(StateInput in, int version) {
        long theirFeatures = in.readLong();
        long acked = in.readLong();
        int st = in.readInt();
        String mac = in.readString(32);
        int pairs = in.readInt();
        int size = in.readInt();
        long desc = in.readLong();
        long avail = in.readLong();
        long used = in.readLong();
        int lastAvail = in.readInt();
        long nextSeq = in.subsection("tap").map(StateInput::readLong).orElse(0L);
        if ((acked & ~hostFeatures) != 0) {
            throw new StateFormatException(String.format("features 0x%x acked, this device offers 0x%x (theirs 0x%x)",
                    acked, hostFeatures, theirFeatures));
        }
        if (!mac.equals(opts.mac()) || pairs != 1 || size != layout.queueSize()) {
            throw new StateFormatException("mac " + mac + ", " + pairs + " queue pairs of " + size
                    + " do not match this device's " + opts.mac() + ", 1 of " + layout.queueSize());
        }
        if (lastAvail < 0 || lastAvail > 0xffff || nextSeq < 0) {
            throw new StateFormatException("vring base " + lastAvail + " is out of range");
        }
        VirtioLoad.checkStatus(st);
        if (st == STATUS_DRIVER_OK) {
            if (desc != layout.desc() || avail != layout.avail() || used != layout.used()) {
                throw new StateFormatException("rings at other addresses than this device's layout");
            }
            checkIndices(lastAvail, size);
        }
        ackedFeatures = acked;
        status = st;
        descGpa = desc;
        availGpa = avail;
        usedGpa = used;
        lastAvailIdx = lastAvail;
        tap.setNextSeq(nextSeq);
        programFeatures();
        announcePending = true;
    }

    /** QEMU's virtio_load checks: the guest's avail index and the used index agree with the vring base. */
    private void checkIndices(int lastAvail, int size) {
        VirtioLoad.checkIndices(0, size, ram.load16(layout.avail() + 2), ram.load16(layout.used() + 2), lastAvail);
    }

    @Override
    public synchronized String describe() {
        return String.format("mac %s, status 0x%x, rx-rate %d/s, rx %d packets, vring base %d, tap next %d,"
                        + " log %s (%d syncs, %d us scanning), announced %d%s",
                opts.mac(), status, opts.rxRate(), vhost.packets(), vhost.running() ? -1 : lastAvailIdx,
                tap.nextSeq(), (vhost.features() & VhostNet.F_LOG_ALL) != 0 ? "on" : "off", log.syncs(),
                log.scanNanos() / 1000, tap.announcements(), vhost.broken() != null ? ", BROKEN: " + vhost.broken() : "");
    }

    @Override
    public synchronized Optional<OracleVerdict> check() {
        return Optional.of(new NetOracle(ram, layout, status == STATUS_DRIVER_OK, lastAvailIdx, tap.nextSeq(),
                vhost.broken()).verdict());
    }
}
