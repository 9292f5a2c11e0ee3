package io.godwit.coordinator.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import java.io.IOException;
import java.util.Set;

/**
 * {@link UnixTestTransport} with a hook on each side's channel: a test transport overrides
 * {@link #outgoing} (the source's) or {@link #incoming} (the destination's) to wrap it.
 */
abstract class ForwardingTransport implements Transport {

    private final UnixTestTransport unix = new UnixTestTransport();

    /** The source's channel, as the migration will use it. */
    MigrationChannel outgoing(MigrationChannel channel) {
        return channel;
    }

    /** The destination's channel, as the migration will use it. */
    MigrationChannel incoming(MigrationChannel channel) {
        return channel;
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return unix.capabilities();
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        return outgoing(unix.connectOutgoing(address));
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        IncomingListener inner = unix.listenIncoming(address);
        return new IncomingListener() {
            @Override
            public String uri() {
                return inner.uri();
            }

            @Override
            public MigrationChannel accept() throws IOException {
                return incoming(inner.accept());
            }

            @Override
            public void close() throws IOException {
                inner.close();
            }
        };
    }
}
