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
 * guest access lands there. After a store the tracker's hook sees every page the store touched.
 *
 * <p>The hook field is plain, not volatile: it is changed only on this vCPU's own thread, at a
 * quantum boundary, through the VM's rendezvous, so the hot path pays no fence.
 */
final class VcpuMemory implements CpuMemory {

    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final KernelGuestMemory memory;
    private final MemorySegment seg0;
    private final long base0;
    private final long size0;
    private WriteHook hook;

    VcpuMemory(KernelGuestMemory memory) {
        this.memory = memory;
        KernelRamBlock first = memory.kernelBlocks().get(0);
        this.seg0 = first.raw();
        this.base0 = first.base();
        this.size0 = first.size();
    }

    /** Installs or removes (null) the tracker's hook. Only on this vCPU's thread. */
    void setHook(WriteHook hook) {
        this.hook = hook;
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

    private void logged(long gpa, int len) {
        WriteHook h = hook;
        if (h != null) {
            long first = gpa >>> RamBlock.PAGE_SHIFT;
            h.onWrite(first);
            long last = (gpa + len - 1) >>> RamBlock.PAGE_SHIFT;
            if (last != first) {
                h.onWrite(last);
            }
        }
    }

    @Override
    public byte load8(long gpa) {
        long off = offset(gpa, 1);
        return off >= 0 ? seg0.get(ValueLayout.JAVA_BYTE, off) : slowSegment(gpa, 1).get(ValueLayout.JAVA_BYTE, 0);
    }

    @Override
    public short load16(long gpa) {
        long off = offset(gpa, 2);
        return off >= 0 ? seg0.get(SHORT, off) : slowSegment(gpa, 2).get(SHORT, 0);
    }

    @Override
    public int load32(long gpa) {
        long off = offset(gpa, 4);
        return off >= 0 ? seg0.get(INT, off) : slowSegment(gpa, 4).get(INT, 0);
    }

    @Override
    public long load64(long gpa) {
        long off = offset(gpa, 8);
        return off >= 0 ? seg0.get(LONG, off) : slowSegment(gpa, 8).get(LONG, 0);
    }

    @Override
    public void store8(long gpa, byte value) {
        long off = offset(gpa, 1);
        if (off >= 0) {
            seg0.set(ValueLayout.JAVA_BYTE, off, value);
            WriteHook h = hook;
            if (h != null) {
                h.onWrite(gpa >>> RamBlock.PAGE_SHIFT);
            }
        } else {
            slowSegment(gpa, 1).set(ValueLayout.JAVA_BYTE, 0, value);
            logged(gpa, 1);
        }
    }

    @Override
    public void store16(long gpa, short value) {
        long off = offset(gpa, 2);
        if (off >= 0) {
            seg0.set(SHORT, off, value);
        } else {
            slowSegment(gpa, 2).set(SHORT, 0, value);
        }
        logged(gpa, 2);
    }

    @Override
    public void store32(long gpa, int value) {
        long off = offset(gpa, 4);
        if (off >= 0) {
            seg0.set(INT, off, value);
        } else {
            slowSegment(gpa, 4).set(INT, 0, value);
        }
        logged(gpa, 4);
    }

    @Override
    public void store64(long gpa, long value) {
        long off = offset(gpa, 8);
        if (off >= 0) {
            seg0.set(LONG, off, value);
        } else {
            slowSegment(gpa, 8).set(LONG, 0, value);
        }
        logged(gpa, 8);
    }

}
