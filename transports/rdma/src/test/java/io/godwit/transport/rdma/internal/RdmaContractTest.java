package io.godwit.transport.rdma.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.transport.testkit.TransportContract;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rdma transport's control channel passes the transport test kit. */
class RdmaContractTest extends TransportContract {

    @TempDir
    Path keys;
    private Transport rdma;

    @Override
    protected Transport transport() {
        if (rdma == null) {
            rdma = TestRdma.transport(keys);
        }
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
