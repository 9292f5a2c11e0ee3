package io.godwit.transport.rdma.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.RemoteMemoryChannel;
import io.godwit.transport.socket.internal.SocketMigrationChannel;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * One rdma connection: the TCP control channel carries the migration stream (a plain socket channel
 * after the handshake); the destination end registers memory ({@link MemoryRegistry}), the source end
 * writes into it through its {@link QueuePair}. Closing closes all three.
 */
final class RdmaChannel implements RemoteMemoryChannel {

    private final SocketChannel socket;
    private final SocketMigrationChannel stream;
    private final LinkModel local;
    private final MemoryRegistry registry;
    private final QueuePair queuePair;
    private final Path registryFolder;
    private final Object handshakeLock = new Object();
    private volatile boolean peerKnown;
    /** The destination's half of the handshake, sent before its first byte (null once sent, or on the source). */
    private volatile LinkModel helloToSend;

    /**
     * @param peerLink the peer's link model when its handshake was read already (destination), or
     *     null to read it when first needed (source)
     */
    RdmaChannel(SocketChannel socket, String name, LinkModel local, LinkModel peerLink, Path registryFolder) {
        this.socket = socket;
        this.stream = new SocketMigrationChannel(socket, name);
        this.local = local;
        this.registryFolder = registryFolder;
        this.registry = new MemoryRegistry(registryFolder);
        this.queuePair = new QueuePair(name);
        if (peerLink != null) {
            queuePair.link(local.combine(peerLink));
            peerKnown = true;
            helloToSend = local;
        }
    }

    /**
     * The destination answers the handshake lazily, before its first byte: a source that only writes and
     * closes then leaves no unread bytes behind, which would turn its close into a reset.
     */
    private void answer() throws IOException {
        if (helloToSend == null) {
            return;
        }
        synchronized (handshakeLock) {
            if (helloToSend != null) {
                Handshake.send(socket, helloToSend);
                helloToSend = null;
            }
        }
    }

    /**
     * The source reads the destination's half of the handshake before anything else it reads; false when
     * the destination ended its output without sending a byte.
     */
    private boolean knowPeer() throws IOException {
        if (peerKnown) {
            return true;
        }
        synchronized (handshakeLock) {
            if (!peerKnown) {
                LinkModel peer = Handshake.receive(socket, name());
                if (peer == null) {
                    return false;
                }
                queuePair.link(local.combine(peer));
                peerKnown = true;
            }
        }
        return true;
    }

    @Override
    public String name() {
        return stream.name();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return knowPeer() ? stream.read(dst) : -1;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        answer();
        return stream.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        answer();
        return stream.write(srcs, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        answer();
        return stream.write(srcs);
    }

    @Override
    public void shutdownOutput() throws IOException {
        answer();
        stream.shutdownOutput();
    }

    @Override
    public byte[] register(RamBlock block) throws IOException {
        answer(); // the descriptor goes to the peer next, which needs the handshake before it
        return registry.register(block);
    }

    @Override
    public int attach(byte[] descriptor) throws IOException {
        if (!knowPeer()) {
            throw new java.io.EOFException(name() + ": the peer closed the connection during the rdma handshake");
        }
        RegionDescriptor d = RegionDescriptor.decode(descriptor);
        return queuePair.attach(d, MemoryRegistry.open(registryFolder, d, name()));
    }

    QueuePair queuePair() {
        return queuePair;
    }

    @Override
    public long regionSize(int region) {
        return queuePair.regionSize(region);
    }

    @Override
    public long post(int region, long offset, MemorySegment src) throws IOException, InterruptedException {
        return queuePair.post(region, offset, src);
    }

    @Override
    public long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException {
        return queuePair.poll(wanted, timeoutNanos);
    }

    @Override
    public boolean isOpen() {
        return stream.isOpen();
    }

    /** Deregisters, stops the queue pair, closes the control channel: the peer sees the connection end. */
    @Override
    public void close() throws IOException {
        try {
            registry.close();
            queuePair.close();
        } finally {
            stream.close();
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
