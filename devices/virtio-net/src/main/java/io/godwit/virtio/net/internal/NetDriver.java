package io.godwit.virtio.net.internal;

import io.godwit.api.device.GuestDriver;
import io.godwit.api.memory.CpuMemory;
import io.godwit.virtio.common.internal.EventNotifier;
import java.lang.invoke.VarHandle;
import java.util.zip.CRC32;

/**
 * The guest's virtio-net driver (rx side), run by the kernel on vCPU 0: every store goes through the
 * CPU path, so the dirty tracker sees it. It sets the rx queue up once (descriptors pointing at
 * buffers, all posted), then polls the used ring (NAPI-style), checks each packet's sequence number
 * and CRC, and posts the buffer again. Its state lives in guest RAM, in the driver page:
 *
 * <pre>
 *   0 magic      8 next expected sequence (= packets received in order)
 *  16 last used index seen   20 avail index written
 *  24 errors    32 first error: expected   40 first error: found   48 bytes received
 *  56 broken (virtio_ring's BAD_RING: the device wrote more used entries than buffers were posted)
 *  64 interrupts taken (call notifier signals)
 * </pre>
 */
final class NetDriver implements GuestDriver {

    static final long MAGIC = 0x31564452_54454e56L; // "VNETDRV1"
    static final int NEXT_SEQ = 8;
    static final int LAST_USED = 16;
    static final int AVAIL_IDX = 20;
    static final int ERRORS = 24;
    static final int ERR_EXPECTED = 32;
    static final int ERR_FOUND = 40;
    static final int BYTES = 48;
    static final int BROKEN = 56;
    static final int IRQS = 64;
    /** Without an interrupt the driver still polls every this many runs (a timer tick's NAPI poll). */
    private static final int POLL_EVERY = 8;

    private final Layout layout;
    private final VirtioNet device;
    private final EventNotifier kick;
    private final EventNotifier call;
    private int idleRuns;
    private final byte[] scratch = new byte[Layout.BUFFER_SIZE];
    private final CRC32 crc = new CRC32();

    NetDriver(Layout layout, VirtioNet device, EventNotifier kick, EventNotifier call) {
        this.layout = layout;
        this.device = device;
        this.kick = kick;
        this.call = call;
    }

    @Override
    public void run(CpuMemory m) {
        long st = layout.driverState();
        if (m.load64(st) != MAGIC) {
            probe(m);
            return;
        }
        if (m.load64(st + BROKEN) != 0) {
            return; // a broken queue stays stopped until the device is reset
        }
        long irqs = call.consume(); // the irqfd vhost signals after filling buffers
        if (irqs > 0) {
            m.store64(st + IRQS, m.load64(st + IRQS) + irqs);
            idleRuns = 0;
        } else if (++idleRuns < POLL_EVERY) {
            return;
        } else {
            idleRuns = 0;
        }
        int usedIdx = m.load16(layout.used() + 2) & 0xffff;
        VarHandle.acquireFence(); // the used entries and buffers are read after the index
        int lastUsed = m.load32(st + LAST_USED);
        int availIdx = m.load32(st + AVAIL_IDX);
        int n = layout.queueSize();
        if (((usedIdx - lastUsed) & 0xffff) > n) {
            error(m, st, lastUsed, usedIdx);
            m.store64(st + BROKEN, 1);
            return;
        }
        int posted = 0;
        while (lastUsed != usedIdx && posted < n) {
            long elem = layout.used() + 4 + 8L * (lastUsed % n);
            int id = m.load32(elem);
            int len = m.load32(elem + 4);
            if (id < 0 || id >= n) {
                error(m, st, -1, id); // a used entry the device never wrote: count it, skip it
            } else {
                receive(m, st, layout.buffer(id), len);
                m.store16(layout.avail() + 4 + 2L * (availIdx % n), (short) id);
                availIdx = (availIdx + 1) & 0xffff;
                posted++;
            }
            lastUsed = (lastUsed + 1) & 0xffff;
        }
        if (posted > 0) {
            m.store32(st + LAST_USED, lastUsed);
            m.store32(st + AVAIL_IDX, availIdx);
            VarHandle.releaseFence(); // ring entries before the index the device reads
            m.store16(layout.avail() + 2, (short) availIdx);
            kick.signal();
        }
    }

    /** Driver probe: descriptors, every buffer posted, then DRIVER_OK (which starts vhost). */
    private void probe(CpuMemory m) {
        int n = layout.queueSize();
        for (int i = 0; i < n; i++) {
            long d = layout.desc() + (long) i * Layout.DESC_SIZE;
            m.store64(d, layout.buffer(i));
            m.store32(d + 8, Layout.BUFFER_SIZE);
            m.store16(d + 12, (short) VhostNet.DESC_F_WRITE);
            m.store16(d + 14, (short) 0);
            m.store16(layout.avail() + 4 + 2L * i, (short) i);
        }
        long st = layout.driverState();
        for (int off = 8; off < 80; off += 8) {
            m.store64(st + off, 0);
        }
        m.store32(st + AVAIL_IDX, n);
        m.store16(layout.avail(), (short) 0);
        VarHandle.releaseFence();
        m.store16(layout.avail() + 2, (short) n);
        m.store64(st, MAGIC);
        device.driverOk(layout.desc(), layout.avail(), layout.used());
    }

    private void receive(CpuMemory m, long st, long buf, int usedLen) {
        long expected = m.load64(st + NEXT_SEQ);
        long seq = m.load64(buf + Packets.VNET_HDR);
        int len = m.load32(buf + Packets.VNET_HDR + 8);
        int sum = m.load32(buf + Packets.VNET_HDR + 12);
        int numBuffers = m.load16(buf + 10) & 0xffff;
        boolean ok = seq == expected && numBuffers == 1 && len >= 0 && len <= Packets.MAX_PAYLOAD
                && usedLen == Packets.VNET_HDR + Packets.FRAME_HDR + len
                && crcOf(m, buf + Packets.VNET_HDR + Packets.FRAME_HDR, len) == sum;
        if (!ok) {
            error(m, st, expected, seq);
        }
        m.store64(st + NEXT_SEQ, (ok ? expected : seq) + 1);
        m.store64(st + BYTES, m.load64(st + BYTES) + Math.max(0, usedLen));
    }

    private void error(CpuMemory m, long st, long expected, long found) {
        long errors = m.load64(st + ERRORS);
        if (errors == 0) {
            m.store64(st + ERR_EXPECTED, expected);
            m.store64(st + ERR_FOUND, found);
        }
        m.store64(st + ERRORS, errors + 1);
    }

    private int crcOf(CpuMemory m, long gpa, int len) {
        int words = (len + 7) / 8;
        for (int i = 0; i < words; i++) {
            long v = m.load64(gpa + 8L * i);
            for (int b = 0; b < 8; b++) {
                scratch[8 * i + b] = (byte) (v >>> (8 * b));
            }
        }
        crc.reset();
        crc.update(scratch, 0, len);
        return (int) crc.getValue();
    }
}
