package io.godwit.transport.fd.internal;

/** The kit over a pipe: one-way. */
class FdPipeTest extends FdContractBase {

    @Override
    int[] pair() throws Throwable {
        return TestFds.pipe(); // {read end: the destination's, write end: the source's}
    }
}
