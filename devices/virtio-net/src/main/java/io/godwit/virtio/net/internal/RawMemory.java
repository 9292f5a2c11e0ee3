package io.godwit.virtio.net.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Guest RAM as vhost sees it: the process's own mapping, reached without any vCPU, so nothing here is
 * seen by the CPU dirty tracker (that is the whole point of the vhost log). Little endian, as virtio 1.
 */
final class RawMemory {

    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GuestMemory memory;
    private final MemorySegment seg;
    private final long blockBase;

    /** The raw mapping of the block holding {@code [gpa, gpa + size)}; the range must lie in one block. */
    RawMemory(GuestMemory memory, long gpa, long size) {
        RamBlock b = memory.blockAt(gpa);
        if (gpa + size > b.base() + b.size()) {
            throw new IllegalArgumentException(String.format(
                    "the queue at 0x%x (%d bytes) does not fit in RAM block %s", gpa, size, b.name()));
        }
        this.memory = memory;
        this.seg = b.raw();
        this.blockBase = b.base();
    }

    /**
     * During postcopy, waits until the pages vhost is about to reach have arrived, as vhost-user's own
     * userfaultfd does in QEMU (one volatile read otherwise).
     */
    private void present(long gpa, long len) {
        io.godwit.api.memory.PostcopyRam pc = memory.postcopy();
        if (pc != null) {
            pc.touch(gpa, len);
        }
    }

    /** Whether {@code [gpa, gpa + len)} lies in this mapping (a guest-supplied address is checked first). */
    boolean contains(long gpa, long len) {
        return gpa >= blockBase && len >= 0 && gpa - blockBase <= seg.byteSize() - len;
    }

    int load16(long gpa) {
        present(gpa, 2);
        int v = seg.get(SHORT, gpa - blockBase) & 0xffff;
        VarHandle.acquireFence();
        return v;
    }

    int load32(long gpa) {
        present(gpa, 4);
        return seg.get(INT, gpa - blockBase);
    }

    long load64(long gpa) {
        present(gpa, 8);
        return seg.get(LONG, gpa - blockBase);
    }

    void store16Release(long gpa, int v) {
        present(gpa, 2);
        VarHandle.releaseFence();
        seg.set(SHORT, gpa - blockBase, (short) v);
    }

    void store32(long gpa, int v) {
        present(gpa, 4);
        seg.set(INT, gpa - blockBase, v);
    }

    void copyIn(long gpa, byte[] src, int len) {
        present(gpa, len);
        MemorySegment.copy(src, 0, seg, ValueLayout.JAVA_BYTE, gpa - blockBase, len);
    }

    void copyOut(long gpa, byte[] dst, int len) {
        present(gpa, len);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, gpa - blockBase, dst, 0, len);
    }
}
