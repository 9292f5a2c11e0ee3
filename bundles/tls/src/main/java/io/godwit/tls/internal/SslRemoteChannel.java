package io.godwit.tls.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.RemoteMemoryChannel;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import javax.net.ssl.SSLEngine;

/**
 * TLS over the control channel of a transport with remote memory writes (rdma): the stream, the
 * return path and the registration descriptors are encrypted; the page writes themselves go the
 * plain channel's way, as RDMA WRITEs bypass any socket (QEMU refuses TLS with rdma for that reason).
 */
final class SslRemoteChannel extends SslChannel implements RemoteMemoryChannel {

    private final RemoteMemoryChannel remote;

    SslRemoteChannel(RemoteMemoryChannel remote, SSLEngine engine, boolean ownRecords) {
        super(remote, engine, ownRecords);
        this.remote = remote;
    }

    @Override
    public byte[] register(RamBlock block) throws IOException {
        return remote.register(block);
    }

    @Override
    public int attach(byte[] descriptor) throws IOException {
        return remote.attach(descriptor);
    }

    @Override
    public long regionSize(int region) {
        return remote.regionSize(region);
    }

    @Override
    public long post(int region, long offset, MemorySegment src) throws IOException, InterruptedException {
        return remote.post(region, offset, src);
    }

    @Override
    public long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException {
        return remote.poll(wanted, timeoutNanos);
    }
}
