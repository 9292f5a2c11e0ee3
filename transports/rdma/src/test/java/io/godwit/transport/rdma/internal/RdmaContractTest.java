package io.godwit.transport.rdma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rdma transport's control channel passes the transport test kit. */
class RdmaContractTest extends TransportContract {

    private final Transport rdma;

    RdmaContractTest() {
        try {
            rdma = TestRdma.transport(Files.createTempDirectory("godwit-rdma-keys"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected Transport transport() {
        return rdma;
    }

    @Override
    protected String scheme() {
        return "rdma";
    }

    @Override
    protected String listenAddress() {
        return "127.0.0.1:0";
    }

    @Override
    protected String deadAddress() {
        return "127.0.0.1:1";
    }

    /** Two-way and several channels like tcp, and remote memory writes besides. */
    @Test
    void declaresBidirectionalMultiChannelAndRemoteMemoryWrite() {
        assertEquals(Set.of(TransportCapability.BIDIRECTIONAL, TransportCapability.MULTI_CHANNEL,
                TransportCapability.REMOTE_MEMORY_WRITE), transport().capabilities());
    }
}
