package io.godwit.api.transport;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One byte channel of a migration, in blocking mode. Gathering writes let page bytes go from guest
 * memory to the channel without an extra copy where the channel allows.
 *
 * <p>Writes, gathering ones included, return only when every byte is written (or throw): callers
 * never loop over partial writes. Used by one reader thread and one writer thread at a time;
 * {@link #close} may come from any thread and unblocks both.
 */
@ConsumerType
public interface MigrationChannel extends ByteChannel, GatheringByteChannel {

    /** A name for logs and {@code info migrate}, for example {@code tcp:127.0.0.1:4444}. */
    String name();

    /** Ends the outgoing direction; the peer reads end of stream. */
    void shutdownOutput() throws IOException;
}
