package io.godwit.transport.file.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * A destination's file "listener": nothing listens; {@link #accept} opens the file for reading, once,
 * as one file holds one migration.
 */
final class FileListener implements IncomingListener {

    private final FileAddress address;
    private boolean closed;
    private boolean opened;

    FileListener(FileAddress address) {
        this.address = address;
    }

    @Override
    public String uri() {
        return address.toString();
    }

    @Override
    public synchronized MigrationChannel accept() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (opened) {
            throw new IOException(uri() + ": opened already; a file listener accepts once");
        }
        opened = true;
        return FileTransport.openForReading(address);
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return uri();
    }
}
