package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A channel that hands everything to another, for test transports that break, cut, slow or tamper
 * with one thing: every write goes through {@link #write(ByteBuffer[], int, int)}, so overriding that
 * (or {@link #read}) is enough.
 */
public abstract class ForwardingChannel implements MigrationChannel {

    protected final MigrationChannel inner;

    protected ForwardingChannel(MigrationChannel inner) {
        this.inner = inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return inner.read(dst);
    }

    @Override
    public final int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public final long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return inner.write(srcs, offset, length);
    }

    @Override
    public void shutdownOutput() throws IOException {
        inner.shutdownOutput();
    }

    @Override
    public boolean isOpen() {
        return inner.isOpen();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
