package io.godwit.transport.tcp.internal;

import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.MultifdContract;

/** Multifd over real TCP sockets on 127.0.0.1. */
class TcpMultifdTest extends MultifdContract {

    @Override
    protected Transport transport() {
        return new TcpTransport(2_000, TcpTransport.DEFAULT_BUFFER);
    }

    @Override
    protected String scheme() {
        return "tcp";
    }

    @Override
    protected String incomingUri() {
        return "tcp:127.0.0.1:0";
    }
}
