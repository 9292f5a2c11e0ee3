package io.godwit.itests;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Descriptor pairs for the fd transport, made here as a parent process would make and pass them. */
final class Descriptors {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PIPE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("pipe").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SOCKETPAIR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("socketpair").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));

    private static final MethodHandle CLOSE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private static final MethodHandle DUP2 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("dup2").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    /**
     * Numbers handed out, each once in this framework: the kernel reuses the lowest free number, and
     * the fd transport rightly refuses a number it consumed before (an earlier test's), so the pairs
     * are moved up here, above what the JVM uses.
     */
    private static final java.util.concurrent.atomic.AtomicInteger NEXT = new java.util.concurrent.atomic.AtomicInteger(5000);

    private Descriptors() {}

    private static int[] moveUp(int a, int b) throws Throwable {
        int[] fds = {a, b};
        for (int i = 0; i < fds.length; i++) {
            int target = NEXT.getAndIncrement();
            if ((int) DUP2.invokeExact(fds[i], target) != target) {
                throw new IllegalStateException("dup2 failed");
            }
            close(fds[i]);
            fds[i] = target;
        }
        return fds;
    }

    static void close(int... fds) throws Throwable {
        for (int fd : fds) {
            int ignored = (int) CLOSE.invokeExact(fd);
        }
    }

    /** {read end, write end}. */
    static int[] pipe() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) PIPE.invokeExact(fds) != 0) {
                throw new IllegalStateException("pipe failed");
            }
            return moveUp(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
        }
    }

    /** Two connected unix stream sockets. */
    static int[] socketpair() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) SOCKETPAIR.invokeExact(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, fds) != 0) {
                throw new IllegalStateException("socketpair failed");
            }
            return moveUp(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
        }
    }
}
