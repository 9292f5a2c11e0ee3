package org.example.godwit.shaped.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The kit, as a third-party author runs it, plus the fault injector. */
class ShapedTransportTest extends TransportContract {

    private final ShapedTransport shaped = new ShapedTransport();

    @Override
    protected Transport transport() {
        return shaped;
    }

    @Override
    protected String scheme() {
        return "shaped";
    }

    @Override
    protected String listenAddress() {
        return "127.0.0.1:0";
    }

    @Override
    protected String deadAddress() {
        return "127.0.0.1:1";
    }

    @Test
    void theCutBreaksTheLinkAfterItsBytes() throws Exception {
        try (IncomingListener listener = shaped.listenIncoming("127.0.0.1:0");
                MigrationChannel source = shaped.connectOutgoing(address(listener) + ",cut=1M");
                MigrationChannel destination = listener.accept()) {
            source.write(ByteBuffer.allocateDirect(1 << 19));
            IOException e = assertThrows(IOException.class, () -> source.write(ByteBuffer.allocateDirect(1 << 20)));
            assertTrue(e.getMessage().endsWith("link cut after 1048576 bytes (fault injection)"), e.getMessage());
        }
    }

    @Test
    void aBadAddressSaysTheForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> shaped.connectOutgoing("127.0.0.1:1,speed=3"));
        assertEquals("shaped address must be HOST:PORT[,rate=BYTES_PER_SECOND][,cut=BYTES]: '127.0.0.1:1,speed=3'",
                e.getMessage());
    }
}
