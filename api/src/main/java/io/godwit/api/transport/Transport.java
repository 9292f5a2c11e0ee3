package io.godwit.api.transport;

import java.io.IOException;
import java.util.Set;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A transport turns the address part of a migration URI into byte channels, and does nothing else:
 * framing, compression and multi-channel fan-out live once, in the coordinator.
 *
 * <p>Registered as a whiteboard service with the property {@link #SCHEME}. The coordinator tracks
 * transports and calls them from the migration threads; both methods may block on I/O.
 */
@ConsumerType
public interface Transport {

    /** Service property (String, required): the URI scheme, for example {@code tcp}. */
    String SCHEME = "godwit.transport.scheme";

    /** What the transport can do; the coordinator refuses an impossible combination up front. */
    Set<TransportCapability> capabilities();

    /**
     * What the transport can do for one address, where that depends on the address (an inherited
     * {@code fd:N} is two-way when it is a socket, one-way when it is a pipe). The coordinator checks
     * the migration's needs against this before it starts. Must not consume or change the address.
     *
     * @param address the URI without its scheme
     * @throws IllegalArgumentException for an address that does not parse
     */
    default Set<TransportCapability> capabilities(String address) {
        return capabilities();
    }

    /**
     * Connects to a listening destination. Called on the outgoing migration thread.
     *
     * @param address the URI without its scheme, for example {@code 127.0.0.1:4444}
     * @throws IllegalArgumentException for an address that does not parse
     * @throws IOException when the destination cannot be reached
     */
    MigrationChannel connectOutgoing(String address) throws IOException;

    /**
     * Starts listening for a source. Called on the thread that runs {@code migrate_incoming}.
     *
     * @throws IllegalArgumentException for an address that does not parse
     * @throws IOException when the address cannot be bound
     */
    IncomingListener listenIncoming(String address) throws IOException;
}
