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
    private static final int MAP_POPULATE = 0x8000;
    private static final int MADV_HUGEPAGE = 14;

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
     */
    static MemorySegment anonymous(long size, boolean populate, Arena arena) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment errno = tmp.allocate(CALL_STATE);
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(
                    errno, MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : MAP_NORESERVE), -1, 0L);
            if (addr.address() == -1L) {
                throw new IllegalArgumentException(
                        "cannot map " + ByteSize.format(size) + " of guest RAM: errno " + (int) ERRNO.get(errno, 0L));
            }
            int ignored = (int) MADVISE.invokeExact(errno, addr, size, MADV_HUGEPAGE);
            long base = addr.address();
            return addr.reinterpret(size, arena, seg -> unmap(base, size));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
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
