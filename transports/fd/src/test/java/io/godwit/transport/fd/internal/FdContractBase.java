package io.godwit.transport.fd.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * The kit over descriptors made in this process: each listen address is a fresh pair, the destination
 * listens on one end and the source connects to the other. Ends no migration took are closed after
 * each test.
 */
abstract class FdContractBase extends TransportContract {

    final FdTransport transport = new FdTransport();
    private final Map<Integer, Integer> partners = new HashMap<>();

    /** {destination's end, source's end}. */
    abstract int[] pair() throws Throwable;

    @Override
    protected Transport transport() {
        return transport;
    }

    @Override
    protected String scheme() {
        return "fd";
    }

    @Override
    protected synchronized String listenAddress() throws IOException {
        try {
            int[] p = pair();
            partners.put(p[0], p[1]);
            return Integer.toString(p[0]);
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    @Override
    protected synchronized String connectAddress(IncomingListener listener) {
        return Integer.toString(partners.get(Integer.parseInt(address(listener))));
    }

    /** A pipe's write end whose reader is gone: the first write fails with EPIPE. */
    @Override
    protected synchronized String deadAddress() throws IOException {
        try {
            int[] p = TestFds.pipe();
            TestFds.close(p[0]);
            partners.put(-1 - p[1], p[1]);
            return Integer.toString(p[1]);
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    @Override
    protected boolean acceptWaitsForASource() {
        return false;
    }

    /** FFM downcall frames are hidden: a thread blocked in poll shows Libc.poll on top. */
    @Override
    protected boolean inBlockingCall(Thread thread, StackTraceElement[] stack) {
        return stack.length > 0 && stack[0].getClassName().equals(Libc.class.getName())
                && stack[0].getMethodName().equals("poll");
    }

    @AfterEach
    synchronized void closeUntaken() throws Throwable {
        for (Map.Entry<Integer, Integer> e : partners.entrySet()) {
            for (int fd : new int[] {e.getKey(), e.getValue()}) {
                if (fd >= 0 && !transport.used(fd)) {
                    TestFds.close(fd);
                }
            }
        }
        partners.clear();
    }
}
