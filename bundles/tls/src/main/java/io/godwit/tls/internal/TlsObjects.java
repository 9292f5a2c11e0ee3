package io.godwit.tls.internal;

import io.godwit.api.tls.TlsChannel;
import io.godwit.api.tls.TlsHandshakeException;
import io.godwit.api.tls.TlsObject;
import io.godwit.api.tls.TlsService;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.RemoteMemoryChannel;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.security.auth.x500.X500Principal;
import org.osgi.service.component.annotations.Component;

/**
 * The host's security objects and the TLS sessions made with them (DS, provides {@link TlsService}).
 *
 * <p>After the TLS handshake the server sends one verdict record, which the client waits for: 1 when
 * it accepts the client, or 0 and a reason when its {@code tls-authz} refuses the client's identity.
 * In TLS 1.3 the client finishes its handshake before the server has checked the client's
 * certificate, so without the verdict a refused source would learn it only from its first read, deep
 * in the migration; with it, every refusal shows at connect, as one line.
 */
@Component(service = TlsService.class)
public final class TlsObjects implements TlsService {

    private static final int TLS_HANDSHAKE_RECORD = 0x16;
    private static final int ACCEPTED = 1;
    private static final int REFUSED = 0;
    private static final int MAX_REASON = 200;

    /**
     * How long a peer has to complete the handshake and verdict. A peer that connects and says nothing
     * would otherwise hold a destination's accepting thread for ever; past this its connection closes.
     */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Object> objects = new LinkedHashMap<>();
    private final Duration handshakeTimeout;
    /** Whether channels' records leave the engine for Tls13Records after the handshake (a probe compares both). */
    volatile boolean ownRecords = SslChannel.OWN_RECORDS;

    public TlsObjects() {
        this(HANDSHAKE_TIMEOUT);
    }

    TlsObjects(Duration handshakeTimeout) {
        this.handshakeTimeout = handshakeTimeout;
    }

    @Override
    public String add(String text) {
        ObjectSpec spec = ObjectSpec.parse(text);
        Object made = switch (spec.type()) {
            case X509Credentials.TYPE -> X509Credentials.load(spec);
            case "authz-simple", "authz-list" -> Authz.create(spec);
            default -> throw new IllegalArgumentException("object_add: unknown object type '" + spec.type()
                    + "' (known: tls-creds-x509, authz-simple, authz-list)");
        };
        synchronized (objects) {
            if (objects.containsKey(spec.id())) {
                throw new IllegalArgumentException("object_add: an object with id '" + spec.id() + "' exists already");
            }
            objects.put(spec.id(), made);
        }
        if (made instanceof X509Credentials) {
            CipherWarmup.start(); // TLS migrations are coming: have AES-GCM compiled by then
        }
        return spec.id();
    }

    @Override
    public void delete(String id) {
        synchronized (objects) {
            if (objects.remove(id) == null) {
                throw new IllegalArgumentException("object_del: no object with id '" + id + "'");
            }
        }
    }

    @Override
    public List<TlsObject> objects() {
        List<TlsObject> out = new ArrayList<>();
        synchronized (objects) {
            objects.forEach((id, o) -> out.add(switch (o) {
                case X509Credentials c -> new TlsObject(id, X509Credentials.TYPE, c.description());
                case Authz.Simple a -> new TlsObject(id, "authz-simple", a.description());
                case Authz a -> new TlsObject(id, "authz-list", a.description());
                default -> throw new IllegalStateException(o.toString());
            }));
        }
        return out;
    }

    private <T> T find(String id, Class<T> kind, String parameter) {
        Object o;
        synchronized (objects) {
            o = objects.get(id);
        }
        if (o == null) {
            throw new IllegalArgumentException(parameter + ": no object with id '" + id + "' (object_add it first)");
        }
        if (!kind.isInstance(o)) {
            throw new IllegalArgumentException(parameter + ": object '" + id + "' is not "
                    + (kind == Authz.class ? "an authz-simple or authz-list" : "a tls-creds-x509"));
        }
        return kind.cast(o);
    }

    private X509Credentials creds(String id, boolean server) {
        X509Credentials c = find(id, X509Credentials.class, "tls-creds");
        if (c.server != server) {
            throw new IllegalArgumentException("tls-creds: object '" + id + "' has endpoint="
                    + (c.server ? "server" : "client") + "; a " + (server ? "destination needs endpoint=server"
                    : "source needs endpoint=client"));
        }
        return c;
    }

    @Override
    public TlsChannel client(MigrationChannel plain, String credsId, String hostname) throws IOException {
        X509Credentials creds = creds(credsId, false);
        SslChannel tls = wrap(plain, creds.engine(hostname));
        try (Deadline d = new Deadline(plain, handshakeTimeout)) {
            try {
                tls.handshake();
                readVerdict(tls);
                d.finish();
                return tls;
            } catch (IOException | RuntimeException e) {
                throw d.expired() ? d.failure(tls) : fail(tls, e, "the destination", creds);
            }
        }
    }

    @Override
    public TlsChannel server(MigrationChannel plain, String credsId, String authzId) throws IOException {
        X509Credentials creds = creds(credsId, true);
        Authz authz = authzId == null || authzId.isEmpty() ? null : find(authzId, Authz.class, "tls-authz");
        SslChannel tls = wrap(plain, creds.engine(null));
        try (Deadline d = new Deadline(plain, handshakeTimeout)) {
            try {
                TlsChannel done = serverHandshake(tls, plain, authz);
                d.finish();
                return done;
            } catch (TlsHandshakeException e) {
                throw d.expired() ? d.failure(tls) : e;
            } catch (IOException | RuntimeException e) {
                throw d.expired() ? d.failure(tls) : fail(tls, e, "the source", creds);
            }
        }
    }

    private static TlsChannel serverHandshake(SslChannel tls, MigrationChannel plain, Authz authz) throws IOException {
        int first = tls.peekFirstByte();
        if (first >= 0 && first != TLS_HANDSHAKE_RECORD) {
            throw new TlsHandshakeException("TLS handshake failed: the source sent plain text, not TLS (set tls-creds"
                    + " on the source too)", true, null);
        }
        tls.handshake();
        X500Principal peer = tls.peerPrincipal();
        if (authz != null && (peer == null || !authz.allows(peer))) {
            String who = peer == null ? "an anonymous source" : "identity '" + peer.getName() + "'";
            sendVerdict(tls, REFUSED, who + " is refused by tls-authz '" + authz.id() + "'");
            plain.close();
            throw new TlsHandshakeException("TLS handshake failed: " + who + " is refused by tls-authz '"
                    + authz.id() + "'", false, null);
        }
        sendVerdict(tls, ACCEPTED, "");
        return tls;
    }

    /**
     * Closes the plain channel when the handshake takes longer than its timeout, which unblocks it;
     * a virtual thread ({@code tls-handshake-deadline}) sleeps meanwhile and is interrupted when the
     * handshake ends first.
     */
    private static final class Deadline implements AutoCloseable {
        private final Thread watch;
        private final Duration timeout;
        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile boolean expired;

        Deadline(MigrationChannel plain, Duration timeout) {
            this.timeout = timeout;
            this.watch = Thread.ofVirtual().name("tls-handshake-deadline").start(() -> {
                try {
                    Thread.sleep(timeout);
                    if (ended.compareAndSet(false, true)) {
                        expired = true;
                        plain.close();
                    }
                } catch (InterruptedException | IOException e) {
                    // the handshake ended in time, or the channel is closed already
                }
            });
        }

        boolean expired() {
            return expired;
        }

        TlsHandshakeException failure(SslChannel tls) {
            try {
                tls.close();
            } catch (IOException ignored) {
                // closed by the deadline already
            }
            return new TlsHandshakeException("TLS handshake failed: the peer did not complete it within "
                    + timeout.toSeconds() + " s", false, null);
        }

        /** The handshake succeeded: unless the deadline closed the channel under it meanwhile. */
        void finish() throws TlsHandshakeException {
            if (!ended.compareAndSet(false, true)) {
                throw new TlsHandshakeException("TLS handshake failed: the peer did not complete it within "
                        + timeout.toSeconds() + " s", false, null);
            }
            watch.interrupt();
        }

        @Override
        public void close() {
            if (ended.compareAndSet(false, true)) {
                watch.interrupt();
            }
        }
    }

    private SslChannel wrap(MigrationChannel plain, SSLEngine engine) {
        return plain instanceof RemoteMemoryChannel remote ? new SslRemoteChannel(remote, engine, ownRecords)
                : new SslChannel(plain, engine, ownRecords);
    }

    private static TlsHandshakeException fail(SslChannel tls, Exception e, String peer, X509Credentials creds) {
        if (e instanceof SSLException) {
            tls.sendAlert();
        }
        try {
            tls.close();
        } catch (IOException closing) {
            e.addSuppressed(closing);
        }
        return e instanceof TlsHandshakeException t ? t : HandshakeFailures.describe(e, peer, creds);
    }

    private static void sendVerdict(SslChannel tls, int verdict, String reason) throws IOException {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(3 + text.length);
        b.put((byte) verdict).putShort((short) text.length).put(text).flip();
        tls.write(b);
    }

    private static void readVerdict(SslChannel tls) throws IOException {
        ByteBuffer head = readFully(tls, 3);
        int verdict = head.get();
        int length = head.getShort() & 0xffff;
        if (verdict == ACCEPTED && length == 0) {
            return;
        }
        if (verdict != REFUSED || length > MAX_REASON) {
            throw new SSLException("the destination answered the handshake with an unknown verdict " + verdict);
        }
        String reason = StandardCharsets.UTF_8.decode(readFully(tls, length)).toString();
        throw new TlsHandshakeException("TLS handshake failed: the destination refused this host: "
                + io.godwit.api.text.Printable.bound(io.godwit.api.text.Printable.escape(reason), MAX_REASON), false, null);
    }

    private static ByteBuffer readFully(SslChannel tls, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (tls.read(b) < 0) {
                throw new EOFException("the destination closed the connection after the handshake");
            }
        }
        return b.flip();
    }
}
