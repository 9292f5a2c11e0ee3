package io.godwit.transport.fd.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Descriptors as a parent process would pass them: made without close-on-exec. */
final class TestFds {

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
     * Numbers handed out, each once in this JVM: the kernel reuses the lowest free number, and the
     * transport rightly refuses a number it consumed before, so tests move descriptors up here.
     */
    private static final java.util.concurrent.atomic.AtomicInteger NEXT = new java.util.concurrent.atomic.AtomicInteger(4000);

    private TestFds() {}

    private static int[] moveUp(int[] fds) throws Throwable {
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

    /** A second number for the same open file description (as a parent process keeps its copy). */
    static int dup(int fd) throws Throwable {
        int target = NEXT.getAndIncrement();
        if ((int) DUP2.invokeExact(fd, target) != target) {
            throw new IllegalStateException("dup2 failed");
        }
        return target;
    }

    /** {read end, write end}. */
    static int[] pipe() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) PIPE.invokeExact(fds) != 0) {
                throw new IllegalStateException("pipe failed");
            }
            return moveUp(new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)});
        }
    }

    /** A pipe whose ends are moved to the given numbers: {read end, write end}. */
    static int[] pipeAt(int writeNumber, int readNumber) throws Throwable {
        int[] p = pipe();
        if ((int) DUP2.invokeExact(p[0], readNumber) != readNumber || (int) DUP2.invokeExact(p[1], writeNumber) != writeNumber) {
            throw new IllegalStateException("dup2 failed");
        }
        close(p[0]);
        close(p[1]);
        return new int[] {readNumber, writeNumber};
    }

    /** Two connected unix stream sockets. */
    static int[] socketpair() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) SOCKETPAIR.invokeExact(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, fds) != 0) {
                throw new IllegalStateException("socketpair failed");
            }
            return moveUp(new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)});
        }
    }

    static void close(int fd) throws Throwable {
        int ignored = (int) CLOSE.invokeExact(fd);
    }
}
