package io.godwit.transport.unix.internal;

import io.godwit.api.transport.Transport;
import io.godwit.transport.socket.internal.ThroughputProbe;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/** A measurement, not a check: {@code mvn -pl transports/unix verify -Dgodwit.throughput=true -Dtest=UnixThroughputTest}. */
@EnabledIfSystemProperty(named = "godwit.throughput", matches = "true")
class UnixThroughputTest {

    @TempDir
    Path dir;

    @Test
    void gatheringWritesOverAUnixSocket() throws Exception {
        Map<String, Transport> variants = new LinkedHashMap<>();
        variants.put("unix, default buffers", new UnixTransport(0));
        variants.put("unix, SO_SNDBUF/RCVBUF 4 MiB", new UnixTransport(4 << 20));
        variants.put("unix, SO_SNDBUF/RCVBUF 1 MiB", new UnixTransport(1 << 20));
        ThroughputProbe.compare("unix socket, gathering writes of 256 x 4 KiB", variants,
                dir.resolve("probe.sock").toString(), Long.getLong("godwit.throughput.mib", 2048) << 20,
                Integer.getInteger("godwit.throughput.reps", 7));
    }
}
