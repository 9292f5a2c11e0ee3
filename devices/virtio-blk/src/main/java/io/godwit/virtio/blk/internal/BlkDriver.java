package io.godwit.virtio.blk.internal;

import io.godwit.api.device.GuestDriver;
import io.godwit.api.memory.CpuMemory;
import io.godwit.virtio.common.internal.EventNotifier;
import java.lang.invoke.VarHandle;

/**
 * The guest's virtio-blk driver and its I/O workload, run by the kernel on vCPU 0 (stores on the CPU
 * path). It keeps up to {@code queue-depth} requests in flight, half writes of a checkable pattern
 * and half reads it verifies against the generation it last wrote to that block. Every completion
 * must be of a request in flight (exactly once). Its state lives in guest RAM (driver page):
 *
 * <pre>
 *   0 magic   8 random state   16 last used index   20 avail index   24 errors   32 first error block
 *  40 first error: found generation   48 completions   56 busy slots (bit mask)   64 broken
 *  72 reads verified   80 writes completed   128 + 16*slot: block (8), write (4), generation (4)
 * </pre>
 */
final class BlkDriver implements GuestDriver {

    static final long MAGIC = 0x31564452_4b4c4256L; // "VBLKDRV1"
    static final int RNG = 8;
    static final int LAST_USED = 16;
    static final int AVAIL_IDX = 20;
    static final int ERRORS = 24;
    static final int ERR_BLOCK = 32;
    static final int ERR_FOUND = 40;
    static final int DONE = 48;
    static final int BUSY = 56;
    static final int BROKEN = 64;
    static final int READS = 72;
    static final int WRITES = 80;
    static final int SLOTS = 128;

    static final int T_IN = 0;
    static final int T_OUT = 1;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;

    private final BlkLayout l;
    private final VirtioBlk device;
    private final EventNotifier kick;

    BlkDriver(BlkLayout layout, VirtioBlk device, EventNotifier kick) {
        this.l = layout;
        this.device = device;
        this.kick = kick;
    }

    @Override
    public void run(CpuMemory m) {
        long st = l.driverState();
        if (m.load64(st) != MAGIC) {
            probe(m);
            return;
        }
        if (m.load64(st + BROKEN) != 0) {
            return;
        }
        complete(m, st);
        issue(m, st);
    }

    private void probe(CpuMemory m) {
        long st = l.driverState();
        for (int off = 8; off < SLOTS + 16 * BlkLayout.MAX_SLOTS; off += 8) {
            m.store64(st + off, 0);
        }
        m.store64(st + RNG, 0x2545F4914F6CDD1DL);
        for (int s = 0; s < l.slots(); s++) {
            desc(m, 3 * s, l.header(s), 16, F_NEXT, 3 * s + 1);
            desc(m, 3 * s + 1, l.data(s), BlkLayout.BLOCK, F_NEXT, 3 * s + 2);
            desc(m, 3 * s + 2, l.status(s), 1, F_WRITE, 0);
        }
        m.store16(l.avail(), (short) 0);
        m.store16(l.avail() + 2, (short) 0);
        m.store64(st, MAGIC);
        device.driverOk(l.desc(), l.avail(), l.used());
    }

    private void desc(CpuMemory m, int i, long addr, int len, int flags, int next) {
        long d = l.desc() + 16L * i;
        m.store64(d, addr);
        m.store32(d + 8, len);
        m.store16(d + 12, (short) flags);
        m.store16(d + 14, (short) next);
    }

    private void complete(CpuMemory m, long st) {
        int usedIdx = m.load16(l.used() + 2) & 0xffff;
        VarHandle.acquireFence();
        int lastUsed = m.load32(st + LAST_USED);
        if (((usedIdx - lastUsed) & 0xffff) > l.slots()) {
            error(m, st, -1, usedIdx);
            m.store64(st + BROKEN, 1);
            return;
        }
        long busy = m.load64(st + BUSY);
        while (lastUsed != usedIdx) {
            int id = m.load32(l.used() + 4 + 8L * (lastUsed % BlkLayout.QUEUE));
            int slot = id / 3;
            if (id % 3 != 0 || slot >= l.slots() || (busy & (1L << slot)) == 0) {
                error(m, st, -2, id); // a completion of no request in flight: twice, or invented
            } else {
                finish(m, st, slot);
                busy &= ~(1L << slot);
            }
            lastUsed = (lastUsed + 1) & 0xffff;
        }
        m.store64(st + BUSY, busy);
        m.store32(st + LAST_USED, lastUsed);
    }

    private void finish(CpuMemory m, long st, int slot) {
        long rec = st + SLOTS + 16L * slot;
        long block = m.load64(rec);
        boolean write = m.load32(rec + 8) == T_OUT;
        int gen = m.load32(rec + 12);
        if ((m.load8(l.status(slot)) & 0xff) != 0) {
            error(m, st, block, -3);
        } else if (write) {
            m.store32(l.gen(block), gen); // committed
            m.store32(l.gen(block) + 4, 0);
            m.store64(st + WRITES, m.load64(st + WRITES) + 1);
        } else {
            int committed = m.load32(l.gen(block));
            for (int i = 0; i < BlkLayout.BLOCK / 8; i++) {
                if (m.load64(l.data(slot) + 8L * i) != BlockPattern.word(block, committed, i)) {
                    error(m, st, block, m.load64(l.data(slot) + 8));
                    break;
                }
            }
            m.store64(st + READS, m.load64(st + READS) + 1);
        }
        m.store64(st + DONE, m.load64(st + DONE) + 1);
    }

    private void issue(CpuMemory m, long st) {
        long busy = m.load64(st + BUSY);
        int availIdx = m.load32(st + AVAIL_IDX);
        long rng = m.load64(st + RNG);
        boolean posted = false;
        for (int slot = 0; slot < l.slots(); slot++) {
            if ((busy & (1L << slot)) != 0) {
                continue;
            }
            rng ^= rng << 13;
            rng ^= rng >>> 7;
            rng ^= rng << 17;
            long block = Math.floorMod(rng, l.blocks());
            if (inFlight(m, st, busy, block)) {
                continue;
            }
            boolean write = (rng & (1L << 40)) != 0;
            int gen = m.load32(l.gen(block)) + 1;
            long rec = st + SLOTS + 16L * slot;
            m.store64(rec, block);
            m.store32(rec + 8, write ? T_OUT : T_IN);
            m.store32(rec + 12, write ? gen : 0);
            if (write) {
                for (int i = 0; i < BlkLayout.BLOCK / 8; i++) {
                    m.store64(l.data(slot) + 8L * i, BlockPattern.word(block, gen, i));
                }
                m.store32(l.gen(block) + 4, gen); // in flight
            }
            m.store32(l.header(slot), write ? T_OUT : T_IN);
            m.store32(l.header(slot) + 4, 0);
            m.store64(l.header(slot) + 8, block * (BlkLayout.BLOCK / 512)); // sector
            m.store8(l.status(slot), (byte) 0xff);
            m.store16(l.desc() + 16L * (3 * slot + 1) + 12, (short) (F_NEXT | (write ? 0 : F_WRITE)));
            m.store16(l.avail() + 4 + 2L * (availIdx % BlkLayout.QUEUE), (short) (3 * slot));
            availIdx = (availIdx + 1) & 0xffff;
            busy |= 1L << slot;
            posted = true;
        }
        m.store64(st + RNG, rng);
        if (posted) {
            m.store64(st + BUSY, busy);
            m.store32(st + AVAIL_IDX, availIdx);
            VarHandle.releaseFence();
            m.store16(l.avail() + 2, (short) availIdx);
            kick.signal();
        }
    }

    private boolean inFlight(CpuMemory m, long st, long busy, long block) {
        for (int s = 0; s < l.slots(); s++) {
            if ((busy & (1L << s)) != 0 && m.load64(st + SLOTS + 16L * s) == block) {
                return true;
            }
        }
        return false;
    }

    private void error(CpuMemory m, long st, long block, long found) {
        long errors = m.load64(st + ERRORS);
        if (errors == 0) {
            m.store64(st + ERR_BLOCK, block);
            m.store64(st + ERR_FOUND, found);
        }
        m.store64(st + ERRORS, errors + 1);
    }
}
