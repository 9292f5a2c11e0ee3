package io.godwit.transport.tcp.internal;

import io.godwit.api.transport.Transport;
import io.godwit.transport.socket.internal.ThroughputProbe;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/** A measurement, not a check: {@code mvn -pl transports/tcp verify -Dgodwit.throughput=true -Dtest=TcpThroughputTest}. */
@EnabledIfSystemProperty(named = "godwit.throughput", matches = "true")
class TcpThroughputTest {

    @Test
    void gatheringWritesOver127001() throws Exception {
        Map<String, Transport> variants = new LinkedHashMap<>();
        variants.put("tcp, kernel autotuning", new TcpTransport(2_000, 0));
        variants.put("tcp, SO_SNDBUF/RCVBUF 4 MiB", new TcpTransport(2_000, 4 << 20));
        variants.put("tcp, SO_SNDBUF/RCVBUF 1 MiB", new TcpTransport(2_000, 1 << 20));
        ThroughputProbe.compare("tcp 127.0.0.1, gathering writes of 256 x 4 KiB", variants, "127.0.0.1:0",
                Long.getLong("godwit.throughput.mib", 2048) << 20, Integer.getInteger("godwit.throughput.reps", 7));
    }
}
