package org.example.godwit.shaped.internal;

import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.MigrationContract;

/** Real migrations over the example transport, with a bandwidth cap on the source. */
class ShapedMigrationTest extends MigrationContract {

    @Override
    protected Transport transport() {
        return new ShapedTransport();
    }

    @Override
    protected String scheme() {
        return "shaped";
    }

    @Override
    protected String incomingUri() {
        return "shaped:127.0.0.1:0";
    }

    @Override
    protected String outgoingUri(String listenUri) {
        return listenUri + ",rate=256M";
    }
}
