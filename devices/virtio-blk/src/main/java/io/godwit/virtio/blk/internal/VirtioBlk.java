package io.godwit.virtio.blk.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import io.godwit.privatefiles.internal.PrivateFiles;
import io.godwit.virtio.common.internal.EventNotifier;
import io.godwit.virtio.common.internal.VirtioLoad;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtio-blk front end on a raw image, in shared-storage mode: both hosts open the same image;
 * the source drains and flushes when its VM stops, and the destination writes only once its VM runs,
 * so ownership moves at switchover. Its I/O goes through the DMA path, so it needs no log of its own:
 * the kernel's DMA dirty log carries its writes into each sync.
 */
final class VirtioBlk implements Device {

    static final int VERSION = 1;
    static final int STATUS_DRIVER_OK = 0x0f;

    private static final Logger LOG = LoggerFactory.getLogger(VirtioBlk.class);

    private final DeviceContext ctx;
    private final BlkOptions opts;
    private final FileChannel image;
    private final BlkLayout layout;
    private final EventNotifier kick = new EventNotifier();
    private final EventNotifier call = new EventNotifier();
    private final BlkBackend backend;
    private final List<AutoCloseable> handles = new ArrayList<>();
    private final BlockCopy copy;

    private int status;
    private int lastAvailIdx;
    private boolean running;

    VirtioBlk(DeviceContext ctx, BlkOptions opts) {
        this.ctx = ctx;
        this.opts = opts;
        this.image = open(opts); // the options are checked already (BlkOptions.parse)
        try {
            long blocks = image.size() / BlkLayout.BLOCK;
            long size = BlkLayout.size(opts.depth(), blocks);
            long base = opts.base() >= 0 ? opts.base() : ((ctx.memory().size() - (1 << 20) - size) & ~4095L);
            this.layout = new BlkLayout(base, opts.depth(), blocks);
        } catch (IOException | RuntimeException e) {
            closeQuietly(image); // nothing keeps the image open after a refused create
            if (e instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw (RuntimeException) e;
        }
        long blocks = layout.blocks();
        this.backend = new BlkBackend("iothread-" + ctx.vmName() + "-" + ctx.id(), ctx.memory(), layout, image, kick,
                call);
        this.copy = new BlockCopy(opts.image(), image, blocks, backend);
    }

    /**
     * A missing image is created 0600 (the guest's disk is nobody else's to read), this one and a
     * copy-storage destination's alike; an existing one was the user's choice and keeps its mode,
     * with a warning when others can reach it.
     */
    private static FileChannel open(BlkOptions o) {
        try {
            PrivateFiles.Opened opened = PrivateFiles.openReadWrite(o.image());
            FileChannel ch = opened.channel();
            if (!opened.created()) {
                PrivateFiles.exposure(o.image()).ifPresent(how -> LOG.warn("image {} is open to other users ({}): they"
                        + " can read the guest's disk; Godwit leaves the mode of a file it did not create as it is",
                        o.image(), how));
            }
            try {
                if (opened.created() || ch.size() == 0) {
                    ch.truncate(o.size());
                    ch.write(java.nio.ByteBuffer.allocate(1), o.size() - 1);
                }
                if (ch.size() % BlkLayout.BLOCK != 0 || ch.size() == 0) {
                    throw new IllegalArgumentException("image " + o.image() + " is not a whole number of 4 KiB blocks");
                }
                return ch;
            } catch (IOException | RuntimeException e) {
                closeQuietly(ch);
                throw e;
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot open image " + o.image() + ": " + e.getMessage());
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("closing the image", e);
        }
    }

    BlkLayout layout() {
        return layout;
    }

    BlkBackend backend() {
        return backend;
    }

    @Override
    public void realize() {
        ctx.reserveMemory(layout.base(), layout.size());
        handles.add(ctx.attachGuestDriver(new BlkDriver(layout, this, kick)));
        LOG.info("{}: virtio-blk {} on {} ({} blocks), queue at 0x{}", ctx.vmName(), ctx.id(), opts.image(),
                layout.blocks(), Long.toHexString(layout.base()));
    }

    synchronized void driverOk(long desc, long avail, long used) {
        status = STATUS_DRIVER_OK;
        lastAvailIdx = 0;
        if (running) {
            backend.start(lastAvailIdx);
        }
    }

    @Override
    public synchronized void reset() {
        pause();
        status = 0;
        lastAvailIdx = 0;
    }

    @Override
    public synchronized void pause() {
        running = false;
        if (backend.running()) {
            lastAvailIdx = backend.stop();
        }
    }

    @Override
    public synchronized void resume() {
        running = true;
        if (status == STATUS_DRIVER_OK && !backend.running()) {
            backend.start(lastAvailIdx);
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
        try {
            image.close();
        } catch (IOException e) {
            LOG.debug("closing the image", e);
        }
    }

    @Override
    public int stateVersion() {
        return VERSION;
    }

    @Override
    public synchronized void saveState(StateOutput out) {
        out.writeInt(status);
        out.writeLong(layout.blocks());
        out.writeLong(layout.base());
        out.writeInt(layout.slots());
        out.writeInt(lastAvailIdx);
    }

    @Override
    public synchronized void loadState(StateInput in, int version) {
        int st = in.readInt();
        long blocks = in.readLong();
        long base = in.readLong();
        int slots = in.readInt();
        int lastAvail = in.readInt();
        if (blocks != layout.blocks() || base != layout.base() || slots != layout.slots()) {
            throw new StateFormatException("a disk of " + blocks + " blocks with its queue at 0x" + Long.toHexString(base)
                    + " does not match this device's " + layout.blocks() + " at 0x" + Long.toHexString(layout.base()));
        }
        if (lastAvail < 0 || lastAvail > 0xffff) {
            throw new StateFormatException("vring base " + lastAvail + " is out of range");
        }
        VirtioLoad.checkStatus(st);
        if (st == STATUS_DRIVER_OK) {
            // RAM has arrived: QEMU's virtio_load checks the guest's indices against the vring base.
            VirtioLoad.checkIndices(0, BlkLayout.QUEUE, guestIndex(layout.avail() + 2), guestIndex(layout.used() + 2),
                    lastAvail);
        }
        status = st;
        lastAvailIdx = lastAvail;
    }

    /** A ring index the guest keeps in RAM (little endian, 16 bits). */
    private int guestIndex(long gpa) {
        byte[] b = new byte[2];
        ctx.memory().dmaRead(gpa, java.lang.foreign.MemorySegment.ofArray(b));
        return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    @Override
    public Optional<io.godwit.api.device.IterativeState> iterativeState() {
        return Optional.of(copy);
    }

    @Override
    public synchronized String describe() {
        return String.format("image %s, %d blocks, status 0x%x, %d requests, vring base %s%s", opts.image(),
                layout.blocks(), status, backend.requests(), backend.running() ? "(running)" : lastAvailIdx,
                backend.broken() != null ? ", BROKEN: " + backend.broken() : "");
    }

    @Override
    public synchronized Optional<OracleVerdict> check() {
        return Optional.of(new BlkOracle(ctx.memory(), layout, image, status == STATUS_DRIVER_OK, lastAvailIdx,
                backend.broken()).verdict());
    }
}
