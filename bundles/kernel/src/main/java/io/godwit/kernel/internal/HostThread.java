package io.godwit.kernel.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The host's id of the calling thread (Linux's TID, {@code gettid(2)}), which QEMU reports as a vCPU's
 * {@code thread-id}: what {@code top -H}, {@code taskset -p} and {@code /proc/PID/task/} name. A Java
 * thread's own {@code threadId()} is a JVM counter that no host tool knows.
 */
final class HostThread {

    private static final Optional<MethodHandle> GETTID = Linker.nativeLinker().defaultLookup().find("gettid")
            .map(s -> Linker.nativeLinker().downcallHandle(s, FunctionDescriptor.of(JAVA_INT)));

    private HostThread() {}

    /** The calling thread's host TID, or -1 where the C library has no {@code gettid} (glibc before 2.30). */
    static long currentTid() {
        if (GETTID.isEmpty()) {
            return -1;
        }
        try {
            return (int) GETTID.get().invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }
}
