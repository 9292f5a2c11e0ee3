package io.godwit.kernel.internal;

import io.godwit.api.dirty.WriteHook;
import io.godwit.api.memory.CpuMemory;
import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The CPU path of one vCPU. The first block gets a fast path (one range check), because almost every
 * guest access lands there. After a store outside the store window (below), the tracker's hook sees
 * every page the store touched.
 *
 * <p>Stores have a second, narrower fast path: the <em>store window</em>, a range of block 0 where a
 * store needs no hook call. Without a hook it is the whole block; with one it is what the hook last
 * answered through {@link WriteHook#onWriteCacheable} (the run of cacheable pages around the page just
 * written: a TLB entry whose dirty flag is set). So a tracked store to a page already dirty costs what
 * an untracked one costs, as under EPT with D bits or QEMU's TLB_NOTDIRTY. The window holds one run:
 * stores scattered over many groups still reach the hook. It is reset at every rendezvous action on
 * this vCPU ({@link #dropStoreWindow}) and whenever the hook changes: empty with a hook, the whole
 * block without one.
 *
 * <p>The hook and window fields are plain, not volatile: they change only on this vCPU's own thread, at
 * a quantum boundary, or while it is parked under the VM lock, so the hot path pays no fence. (One
 * exception: when {@code KernelDirtyLogging.stop} is interrupted it clears the hook from its own
 * thread, best effort, with logging already off; the next start resets both on the vCPU's thread.)
 */
final class VcpuMemory implements CpuMemory {

    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final KernelGuestMemory memory;
    /** This vCPU's index, for postcopy's per-vCPU blocked time. */
    private final int vcpu;
    private final MemorySegment seg0;
    private final long base0;
    private final long size0;
    private WriteHook hook;
    /** The store window: offsets in block 0, {@code [windowStart, windowEnd)}, that need no hook. */
    private long windowStart;
    private long windowEnd;

    VcpuMemory(KernelGuestMemory memory) {
        this(memory, -1);
    }

    VcpuMemory(KernelGuestMemory memory, int vcpu) {
        this.memory = memory;
        this.vcpu = vcpu;
        KernelRamBlock first = memory.kernelBlocks().get(0);
        this.seg0 = first.raw();
        this.base0 = first.base();
        this.size0 = first.size();
        this.windowEnd = size0;
    }

    /** Installs or removes (null) the tracker's hook. Only on this vCPU's thread, or while it is parked. */
    void setHook(WriteHook hook) {
        this.hook = hook;
        dropStoreWindow();
    }

    /**
     * Forgets what the hook said was cacheable: at every rendezvous action on this vCPU (a kick, as a
     * TLB shootdown would), on its thread or while it is parked.
     */
    void dropStoreWindow() {
        windowStart = 0;
        windowEnd = hook == null ? size0 : 0;
    }

    private long offset(long gpa, int len) {
        long off = gpa - base0;
        if (off >= 0 && off <= size0 - len) {
            return off;
        }
        return -1;
    }

    private MemorySegment slowSegment(long gpa, int len) {
        KernelRamBlock b = memory.find(gpa, len);
        return b.raw().asSlice(gpa - b.base(), len);
    }

    /** The offset in block 0 if all {@code len} bytes lie in the store window, else -1. */
    private long windowed(long gpa, int len) {
        long off = gpa - base0;
        if (off >= windowStart && off <= windowEnd - len) {
            return off;
        }
        return -1;
    }

    /**
     * Tells the hook about a store outside the window, and takes the window it answers. Only the
     * latest answer counts: a hook call may change what the tracker would ignore (a ring-full reap
     * re-protects pages), so any call without an answer about its own page leaves no window.
     */
    private void logged(long gpa, int len) {
        WriteHook h = hook;
        if (h == null) {
            return;
        }
        long first = gpa >>> RamBlock.PAGE_SHIFT;
        long last = (gpa + len - 1) >>> RamBlock.PAGE_SHIFT;
        windowStart = 0;
        windowEnd = 0;
        if (last != first) {
            h.onWrite(first);
            h.onWrite(last);
            return;
        }
        long cacheable = h.onWriteCacheable(first);
        int bit = (int) (first & 63);
        if ((cacheable >>> bit & 1) != 0) {
            openWindow(first, cacheable, bit);
        }
    }

    /** The window becomes the run of cacheable pages around {@code page}, clipped to block 0. */
    private void openWindow(long page, long cacheable, int bit) {
        int above = Long.numberOfTrailingZeros(~(cacheable >>> bit)); // page and the run above it
        int below = Long.numberOfLeadingZeros(~(cacheable << (63 - bit))); // page and the run below it
        long startPage = page - below + 1;
        long endPage = page + above;
        windowStart = Math.max(0, (startPage << RamBlock.PAGE_SHIFT) - base0);
        windowEnd = Math.min(size0, (endPage << RamBlock.PAGE_SHIFT) - base0);
    }

    /**
     * Postcopy's not-present exit: an access to a page that has not arrived waits for it (one volatile
     * read when no postcopy runs, a bitmap test while one does).
     */
    private void present(long gpa, int len) {
        KernelPostcopy pc = memory.postcopy;
        if (pc != null) {
            pc.fault(gpa, len, vcpu);
        }
    }

    @Override
    public byte load8(long gpa) {
        present(gpa, 1);
        long off = offset(gpa, 1);
        return off >= 0 ? seg0.get(ValueLayout.JAVA_BYTE, off) : slowSegment(gpa, 1).get(ValueLayout.JAVA_BYTE, 0);
    }

    @Override
    public short load16(long gpa) {
        present(gpa, 2);
        long off = offset(gpa, 2);
        return off >= 0 ? seg0.get(SHORT, off) : slowSegment(gpa, 2).get(SHORT, 0);
    }

    @Override
    public int load32(long gpa) {
        present(gpa, 4);
        long off = offset(gpa, 4);
        return off >= 0 ? seg0.get(INT, off) : slowSegment(gpa, 4).get(INT, 0);
    }

    @Override
    public long load64(long gpa) {
        present(gpa, 8);
        long off = offset(gpa, 8);
        return off >= 0 ? seg0.get(LONG, off) : slowSegment(gpa, 8).get(LONG, 0);
    }

    @Override
    public void store8(long gpa, byte value) {
        present(gpa, 1);
        long off = windowed(gpa, 1);
        if (off >= 0) {
            seg0.set(ValueLayout.JAVA_BYTE, off, value);
            return;
        }
        off = offset(gpa, 1);
        if (off >= 0) {
            seg0.set(ValueLayout.JAVA_BYTE, off, value);
        } else {
            slowSegment(gpa, 1).set(ValueLayout.JAVA_BYTE, 0, value);
        }
        logged(gpa, 1);
    }

    @Override
    public void store16(long gpa, short value) {
        present(gpa, 2);
        long off = windowed(gpa, 2);
        if (off >= 0) {
            seg0.set(SHORT, off, value);
            return;
        }
        off = offset(gpa, 2);
        if (off >= 0) {
            seg0.set(SHORT, off, value);
        } else {
            slowSegment(gpa, 2).set(SHORT, 0, value);
        }
        logged(gpa, 2);
    }

    @Override
    public void store32(long gpa, int value) {
        present(gpa, 4);
        long off = windowed(gpa, 4);
        if (off >= 0) {
            seg0.set(INT, off, value);
            return;
        }
        off = offset(gpa, 4);
        if (off >= 0) {
            seg0.set(INT, off, value);
        } else {
            slowSegment(gpa, 4).set(INT, 0, value);
        }
        logged(gpa, 4);
    }

    @Override
    public void store64(long gpa, long value) {
        present(gpa, 8);
        long off = windowed(gpa, 8);
        if (off >= 0) {
            seg0.set(LONG, off, value);
            return;
        }
        off = offset(gpa, 8);
        if (off >= 0) {
            seg0.set(LONG, off, value);
        } else {
            slowSegment(gpa, 8).set(LONG, 0, value);
        }
        logged(gpa, 8);
    }
}
