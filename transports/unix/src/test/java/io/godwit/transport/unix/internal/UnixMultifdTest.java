package io.godwit.transport.unix.internal;

import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.MultifdContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** Multifd over real unix sockets. */
class UnixMultifdTest extends MultifdContract {

    @TempDir
    Path dir;

    @Override
    protected Transport transport() {
        return new UnixTransport(UnixTransport.DEFAULT_BUFFER);
    }

    @Override
    protected String scheme() {
        return "unix";
    }

    @Override
    protected String incomingUri() {
        return "unix:" + dir.resolve("m.sock");
    }
}
