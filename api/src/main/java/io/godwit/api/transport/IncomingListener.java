package io.godwit.api.transport;

import java.io.Closeable;
import java.io.IOException;
import org.osgi.annotation.versioning.ConsumerType;

/** A destination waiting for a source. {@link #close} may come from any thread and unblocks accept. */
@ConsumerType
public interface IncomingListener extends Closeable {

    /**
     * The URI a source uses to reach this listener, with the real port when port 0 was asked for,
     * for example {@code tcp:127.0.0.1:41234}.
     */
    String uri();

    /** Waits for the next channel from the source. Called on the incoming migration thread. */
    MigrationChannel accept() throws IOException;
}
