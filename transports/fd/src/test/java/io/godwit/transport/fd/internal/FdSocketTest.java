package io.godwit.transport.fd.internal;

/** The kit over a socketpair: two-way, so the return path works. */
class FdSocketTest extends FdContractBase {

    @Override
    int[] pair() throws Throwable {
        return TestFds.socketpair();
    }
}
