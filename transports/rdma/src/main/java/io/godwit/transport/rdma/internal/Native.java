package io.godwit.transport.rdma.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Pinning, as far as a simulation goes: madvise(MADV_POPULATE_WRITE) faults every page of a mapping
 * in for writing, which is what ibv_reg_mr's get_user_pages does before a NIC may DMA into it. After
 * it, a one-sided write takes no page fault, on either side.
 */
final class Native {

    private static final int MADV_POPULATE_WRITE = 23;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MADVISE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("madvise").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Linker.Option.captureCallState("errno"));

    private Native() {}

    /**
     * Faults every page of {@code mapping} in for writing (its address must be page aligned).
     *
     * @return 0, or the errno of a kernel that cannot (older than 5.14: EINVAL), in which case pages
     *     fault in at first write instead
     */
    static int populateWrite(MemorySegment mapping) {
        if (mapping.byteSize() == 0) {
            return 0;
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment errno = tmp.allocate(CALL_STATE);
            int r = (int) MADVISE.invokeExact(errno, MemorySegment.ofAddress(mapping.address()), mapping.byteSize(),
                    MADV_POPULATE_WRITE);
            return r == 0 ? 0 : (int) ERRNO.get(errno, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("madvise failed", t);
        }
    }
}
