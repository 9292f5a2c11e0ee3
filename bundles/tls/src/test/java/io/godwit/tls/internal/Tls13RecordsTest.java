package io.godwit.tls.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.coordinator.internal.ForwardingChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Tls13Records} against the JDK's own record layer over tcp 127.0.0.1: each side with either,
 * data intact both ways, close_notify, KeyUpdates either way, and a record changed on the wire.
 */
class Tls13RecordsTest {

    @TempDir
    static Path pki;
    private static X509Credentials server;
    private static X509Credentials client;
    private final Transport tcp = TlsMigrationTest.tcp();

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed");
        TestPki.serverAndClient(pki);
        server = X509Credentials.load(ObjectSpec.parse("tls-creds-x509,id=s,endpoint=server,dir=" + pki.resolve("server")));
        client = X509Credentials.load(ObjectSpec.parse("tls-creds-x509,id=c,endpoint=client,dir=" + pki.resolve("client")));
    }

    private record Pair(IncomingListener listener, SslChannel client, SslChannel server) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            client.close();
            server.close();
            listener.close();
        }
    }

    /** Both handshakes at once; each side's records with Tls13Records ({@code own}) or the engine. */
    private Pair connect(boolean clientOwn, boolean serverOwn, Consumer<SslChannel> tuneClient,
            java.util.function.UnaryOperator<MigrationChannel> serverWire) throws Exception {
        IncomingListener listener = tcp.listenIncoming("127.0.0.1:0");
        MigrationChannel out = tcp.connectOutgoing(listener.uri().substring(listener.uri().indexOf(':') + 1));
        SslChannel c = new SslChannel(out, client.engine("127.0.0.1"), clientOwn);
        tuneClient.accept(c);
        CompletableFuture<Void> handshake = CompletableFuture.runAsync(() -> {
            try {
                c.handshake();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        SslChannel s = new SslChannel(serverWire.apply(listener.accept()), server.engine(null), serverOwn);
        s.handshake();
        handshake.get(30, TimeUnit.SECONDS);
        assertEquals(clientOwn, c.ownRecords(), "client's records");
        assertEquals(serverOwn, s.ownRecords(), "server's records");
        return new Pair(listener, c, s);
    }

    private Pair connect(boolean clientOwn, boolean serverOwn) throws Exception {
        return connect(clientOwn, serverOwn, c -> { }, w -> w);
    }

    @Test
    void eachSideReadsTheOthersRecordsWhicheverLayerMadeThem() throws Exception {
        for (boolean clientOwn : new boolean[] {true, false}) {
            for (boolean serverOwn : new boolean[] {true, false}) {
                try (Pair p = connect(clientOwn, serverOwn)) {
                    exchange(p, 8 << 20, 1 << 20);
                    p.client().shutdownOutput();
                    assertEquals(-1, p.server().read(ByteBuffer.allocate(16)), "close_notify read as end of stream");
                    p.server().shutdownOutput();
                    assertEquals(-1, p.client().read(ByteBuffer.allocate(16)), "close_notify read as end of stream");
                }
            }
        }
    }

    /** The JDK follows this side's KeyUpdates: the derivation of the next keys is RFC 8446's. */
    @Test
    void theJdkFollowsKeyUpdatesEvery64KiB() throws Exception {
        try (Pair p = connect(true, false, c -> c.keyUpdateBytes = 64 << 10, w -> w)) {
            exchange(p, 8 << 20, 1 << 20); // 128 renewed write keys
        }
    }

    /** Asked to renew its key, the JDK does and says so with a KeyUpdate of its own, which this side follows. */
    @Test
    void aKeyUpdateTheJdkSendsIsFollowed() throws Exception {
        try (Pair p = connect(true, false, c -> {
            c.keyUpdateBytes = 64 << 10;
            c.requestPeerKeyUpdate = true;
        }, w -> w)) {
            exchange(p, 1 << 20, 4 << 20);
        }
    }

    /** Both sides this layer, each asking the other to renew: both directions renew many times. */
    @Test
    void keyUpdatesAskedForBothWaysBetweenTwoOwnLayers() throws Exception {
        try (Pair p = connect(true, true, c -> {
            c.keyUpdateBytes = 64 << 10;
            c.requestPeerKeyUpdate = true;
        }, w -> w)) {
            exchange(p, 4 << 20, 4 << 20);
        }
    }

    @Test
    void aRecordChangedOnTheWireFailsItsIntegrityCheck() throws Exception {
        Flipper[] wire = new Flipper[1];
        try (Pair p = connect(true, true, c -> { }, w -> wire[0] = new Flipper(w))) {
            wire[0].flipAt = wire[0].read + 100; // inside the next record's ciphertext
            ByteBuffer pages = pattern(1 << 20, 7);
            CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
                try {
                    p.client().write(new ByteBuffer[] {pages});
                } catch (IOException e) {
                    // the server may close before all is written
                }
            });
            SSLException e = assertThrows(SSLException.class, () -> p.server().read(ByteBuffer.allocate(1 << 20)));
            assertTrue(e.getMessage().startsWith("bad_record_mac"), e.getMessage());
            p.server().close();
            send.get(30, TimeUnit.SECONDS);
        }
    }

    /** The client sends {@code up} bytes as gathered 4 KiB slices, the server {@code down}; each checks them. */
    private static void exchange(Pair p, int up, int down) throws Exception {
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
            try {
                ByteBuffer all = pattern(up, 1);
                ByteBuffer[] slices = new ByteBuffer[up / 4096];
                for (int i = 0; i < slices.length; i++) {
                    slices[i] = all.slice(i * 4096, 4096);
                }
                for (int i = 0; i < slices.length; i += 64) {
                    p.client().write(slices, i, Math.min(64, slices.length - i));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(pattern(up, 1), readFully(p.server(), up), "client to server");
        sender.get(30, TimeUnit.SECONDS);
        CompletableFuture<Void> answer = CompletableFuture.runAsync(() -> {
            try {
                p.server().write(pattern(down, 2));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(pattern(down, 2), readFully(p.client(), down), "server to client");
        answer.get(30, TimeUnit.SECONDS);
    }

    private static ByteBuffer readFully(SslChannel c, int n) throws IOException {
        ByteBuffer got = ByteBuffer.allocateDirect(n);
        while (got.hasRemaining()) {
            ByteBuffer some = got.slice(got.position(), Math.min(got.remaining(), 3000)); // reads smaller than a record too
            int r = c.read(some);
            if (r < 0) {
                throw new java.io.EOFException("after " + got.position() + " bytes");
            }
            got.position(got.position() + r);
        }
        return got.flip();
    }

    private static ByteBuffer pattern(int n, int seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(n);
        for (int i = 0; i < n; i += 4) {
            b.putInt(i, (i + seed) * 0x9E3779B9);
        }
        return b;
    }

    /** The server's wire: flips a bit of the byte read at stream offset {@code flipAt}. */
    private static final class Flipper extends ForwardingChannel {
        volatile long read;
        volatile long flipAt = Long.MAX_VALUE;

        Flipper(MigrationChannel in) {
            super(in);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int at = dst.position();
            int n = inner.read(dst);
            if (n > 0 && flipAt >= read && flipAt < read + n) {
                int i = at + (int) (flipAt - read);
                dst.put(i, (byte) (dst.get(i) ^ 1));
            }
            read += Math.max(n, 0);
            return n;
        }
    }
}
