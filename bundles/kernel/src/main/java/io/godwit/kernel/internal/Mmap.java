package io.godwit.kernel.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.godwit.api.vm.ByteSize;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Anonymous guest RAM through mmap(2), as QEMU allocates it: lazily backed, so an 8 GiB guest costs
 * nothing until it is touched, unlike {@code Arena.allocate}, which zeroes every byte up front.
 */
final class Mmap {

    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_HUGEPAGE = 14;
    private static final int MADV_POPULATE_WRITE = 23;
    private static final long HUGE_PAGE = 2L << 20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MMAP = downcall(
            "mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MADVISE =
            downcall("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private Mmap() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LINKER.defaultLookup().find(name).orElseThrow();
        return LINKER.downcallHandle(symbol, fd, Linker.Option.captureCallState("errno"));
    }

    /**
     * Maps {@code size} bytes of zeroed anonymous memory whose lifetime is {@code arena}'s: closing the
     * arena unmaps it. Transparent huge pages are asked for; dirty tracking stays at 4 KiB regardless.
     * With {@code populate} every page is faulted in now (QEMU's -mem-prealloc), not at first touch.
     *
     * <p>The order matters, as in QEMU's {@code qemu_ram_mmap} and {@code qemu_prealloc_mem}: the range
     * is aligned to a huge page, advised, and only then populated. {@code MAP_POPULATE} would fault it
     * in at mmap time, before the advice, and with THP in {@code madvise} mode (this host's, most
     * distributions') a preallocated guest would get 4 KiB pages, which every copy into it pays for.
     */
    static MemorySegment anonymous(long size, boolean populate, Arena arena) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment errno = tmp.allocate(CALL_STATE);
            long base = mapAligned(size, errno);
            MemorySegment addr = MemorySegment.ofAddress(base);
            int ignored = (int) MADVISE.invokeExact(errno, addr, size, MADV_HUGEPAGE);
            MemorySegment ram = addr.reinterpret(size, arena, seg -> unmap(base, size));
            if (populate) {
                populate(ram, errno);
            }
            return ram;
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
        }
    }

    /** Maps {@code size} bytes starting on a huge-page boundary: over-maps by one huge page and trims. */
    private static long mapAligned(long size, MemorySegment errno) throws Throwable {
        long span = size + HUGE_PAGE;
        MemorySegment addr = (MemorySegment) MMAP.invokeExact(
                errno, MemorySegment.NULL, span, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
        if (addr.address() == -1L) {
            throw new IllegalArgumentException(
                    "cannot map " + ByteSize.format(size) + " of guest RAM: errno " + (int) ERRNO.get(errno, 0L));
        }
        long start = addr.address();
        long aligned = (start + HUGE_PAGE - 1) & -HUGE_PAGE;
        if (aligned > start) {
            unmap(start, aligned - start);
        }
        long tail = start + span - (aligned + size);
        if (tail > 0) {
            unmap(aligned + size, tail);
        }
        return aligned;
    }

    /**
     * Faults every page in for writing ({@code MADV_POPULATE_WRITE}, Linux 5.14); where the kernel
     * lacks it, one store per 4 KiB page does the same (a zero into zeroed memory changes nothing).
     */
    private static void populate(MemorySegment ram, MemorySegment errno) throws Throwable {
        int rc = (int) MADVISE.invokeExact(errno, ram, ram.byteSize(), MADV_POPULATE_WRITE);
        if (rc == 0) {
            return;
        }
        for (long off = 0; off < ram.byteSize(); off += 4096) {
            ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off, (byte) 0);
        }
    }

    private static void unmap(long address, long size) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment errno = tmp.allocate(CALL_STATE);
            int ignored = (int) MUNMAP.invokeExact(errno, MemorySegment.ofAddress(address), size);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
    }
}
