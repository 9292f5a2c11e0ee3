package io.godwit.benchmarks.probe;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A raw stream's buffer in the same kind of memory as guest RAM: anonymous mmap(2) with transparent
 * huge pages asked for (madvise MADV_HUGEPAGE) before the first touch, as the kernel bundle maps a
 * guest's RAM. {@code Arena.allocate} gives 4 KiB pages, and on this machine a socket copy to or from
 * 4 KiB pages runs at a fraction of the rate of one between huge pages (1 GiB over loopback tcp: about
 * 200 MiB/s with 4 KiB pages on both sides, 300-480 with one side huge, 1.7 GiB/s with both), so a
 * baseline in arena memory measured the page size, not the link.
 */
final class RamLikeBuffer {

    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_HUGEPAGE = 14;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = downcall(
            "mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MADVISE =
            downcall("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private RamLikeBuffer() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    /**
     * {@code size} bytes, unmapped when {@code arena} closes; not yet touched (the caller faults them in
     * outside its clock, which is when the huge pages are taken).
     */
    static MemorySegment allocate(long size, Arena arena) {
        try {
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (addr.address() == -1L) {
                throw new IllegalStateException("cannot map " + size + " bytes for a raw stream");
            }
            int ignored = (int) MADVISE.invokeExact(addr, size, MADV_HUGEPAGE); // only a hint, as for guest RAM
            long base = addr.address();
            return addr.reinterpret(size, arena, seg -> unmap(base, size));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
        }
    }

    private static void unmap(long address, long size) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), size);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
    }
}
