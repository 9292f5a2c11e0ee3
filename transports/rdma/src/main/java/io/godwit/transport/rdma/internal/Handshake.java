package io.godwit.transport.rdma.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Connection setup on the control channel (RDMA CM's exchange, reduced): each end sends a magic, a
 * version and its link model; a peer that is not an rdma transport is refused before a byte of the
 * migration stream moves. The source sends first and reads the answer when it first needs the peer,
 * so connecting never waits for the destination to accept; the destination answers before its first
 * byte, so a source that never reads is never left with unread bytes.
 */
final class Handshake {

    static final long MAGIC = 0x4744575452444d41L; // "GDWTRDMA"
    static final int VERSION = 1;
    static final int SIZE = 8 + 4 + 8 + 8;

    private Handshake() {}

    static void send(SocketChannel channel, LinkModel link) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE).putLong(MAGIC).putInt(VERSION)
                .putLong(link.bytesPerSecond()).putLong(link.latencyNanos()).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /** Reads the peer's half; returns its link model, or null when the peer ended its output first. */
    static LinkModel receive(SocketChannel channel, String name) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                if (b.position() == 0) {
                    return null;
                }
                throw new EOFException(name + ": the peer closed the connection during the rdma handshake");
            }
        }
        b.flip();
        if (b.getLong() != MAGIC) {
            throw new IOException(name + ": the peer is not an rdma transport");
        }
        int version = b.getInt();
        if (version != VERSION) {
            throw new IOException(name + ": the peer speaks rdma version " + version + ", not " + VERSION);
        }
        long bw = b.getLong();
        long latency = b.getLong();
        if (bw < 0 || latency < 0) {
            throw new IOException(name + ": the peer sent a bad link model");
        }
        return new LinkModel(bw, latency);
    }
}
