package io.godwit.tls.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.tls.TlsChannel;
import io.godwit.api.tls.TlsHandshakeException;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport kit's channel contract (256 MiB of gathered pages intact, IOV_MAX, orderly end,
 * peer death, close from another thread under a blocked read or write, both directions at once) run
 * on TLS channels over tcp: the wrapper keeps every promise of {@link MigrationChannel}.
 */
class TlsChannelContractTest extends TransportContract {

    @TempDir
    static Path pki;

    private static final TlsObjects TLS = new TlsObjects(Duration.ofSeconds(5));
    private final Transport tcp = TlsMigrationTest.tcp();

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed");
        TestPki.serverAndClient(pki);
        TLS.add("tls-creds-x509,id=s,endpoint=server,dir=" + pki.resolve("server"));
        TLS.add("tls-creds-x509,id=c,endpoint=client,dir=" + pki.resolve("client"));
    }

    @Override
    protected Transport transport() {
        return tcp;
    }

    @Override
    protected String scheme() {
        return "tcp";
    }

    @Override
    protected String listenAddress() {
        return "127.0.0.1:0";
    }

    @Override
    protected String deadAddress() {
        return "127.0.0.1:1";
    }

    /** Both handshakes at once: the client's waits for the server's answer. */
    @Override
    protected Pair connect() throws IOException {
        IncomingListener listener = tcp.listenIncoming(listenAddress());
        MigrationChannel source = tcp.connectOutgoing(address(listener));
        CompletableFuture<TlsChannel> client = CompletableFuture.supplyAsync(() -> {
            try {
                return TLS.client(source, "c", "127.0.0.1");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        TlsChannel server = TLS.server(listener.accept(), "s", null);
        try {
            return new Pair(listener, client.get(30, TimeUnit.SECONDS), server);
        } catch (InterruptedException | ExecutionException | java.util.concurrent.TimeoutException e) {
            listener.close();
            throw new IOException(e);
        }
    }

    @Test
    void aPeerThatSaysNothingIsDroppedAfterTheHandshakeTimeout() throws Exception {
        try (IncomingListener listener = tcp.listenIncoming(listenAddress());
                MigrationChannel silent = tcp.connectOutgoing(address(listener))) {
            MigrationChannel accepted = listener.accept();
            TlsHandshakeException e = assertThrows(TlsHandshakeException.class, () -> TLS.server(accepted, "s", null));
            assertTrue(e.getMessage().contains("did not complete it within 5 s"), e.getMessage());
            assertTrue(!accepted.isOpen());
        }
    }

    @Test
    void theWrongEndpointIsRefusedBeforeAnyByteMoves() throws Exception {
        try (IncomingListener listener = tcp.listenIncoming(listenAddress());
                MigrationChannel source = tcp.connectOutgoing(address(listener))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TLS.client(source, "s", "x"));
            assertTrue(e.getMessage().contains("endpoint=server"), e.getMessage());
            assertInstanceOf(MigrationChannel.class, source);
        }
    }

    /** AES-128-GCM, the suite every TLS 1.3 peer has (RFC 8446 9.1), before the slower AES-256 the JDK would pick. */
    @Test
    void bothEndsAgreeOnAes128Gcm() throws Exception {
        try (Pair p = connect()) {
            assertEquals("TLS_AES_128_GCM_SHA256", ((TlsChannel) p.source()).cipherSuite());
            assertEquals("TLS_AES_128_GCM_SHA256", ((TlsChannel) p.destination()).cipherSuite());
        }
    }
}
