package io.godwit.tls.internal;

import io.godwit.api.tls.TlsChannel;
import io.godwit.api.transport.MigrationChannel;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS over any {@link MigrationChannel}, with the JDK's {@link SSLEngine}: a channel wrapper, so every
 * stream transport (and each multifd channel) gets TLS the same way. The reader and the writer each
 * have their own lock and buffers ({@code SSLEngine}'s wrap and unwrap may run at once); a
 * post-handshake message that needs an answer (a TLS 1.3 KeyUpdate) is wrapped under the writer's lock.
 *
 * <p>Writes gather: {@code wrap} takes the page slices as they are and encrypts them into a 256 KiB
 * buffer of records, written in one call, so a batch of pages costs a few large socket writes. Reads
 * decrypt straight into the caller's buffer when it holds a whole record, else through a buffer here.
 *
 * <p>Once the handshake is over, {@link Tls13Records} protects the records instead of the engine where
 * {@link JsseKeys} can read the keys (TLS 1.3 with AES-GCM, the JVM started with the add-opens the
 * launcher gives): the same records for a third less CPU per byte. {@code -Dgodwit.tls.records=jdk} keeps
 * them with the engine.
 */
class SslChannel implements TlsChannel {

    private static final Logger LOG = LoggerFactory.getLogger(SslChannel.class);
    /** Whether records may leave the engine for {@link Tls13Records} ({@code godwit.tls.records}, default godwit). */
    static final boolean OWN_RECORDS = !"jdk".equals(System.getProperty("godwit.tls.records"));
    private static volatile boolean toldWhyNot;

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private static final int NET_OUT_BYTES = 256 << 10;
    private static final int NET_IN_BYTES = 256 << 10;

    final MigrationChannel net;
    private final SSLEngine engine;
    private final Object readLock = new Object();
    private final Object writeLock = new Object();
    private final int packetBytes;
    private final int appBytes;
    /**
     * Bytes from the network not yet decrypted, in drain mode (data between position and limit): a
     * record is decrypted where it lies, and only a partial one is moved, once per socket read.
     */
    private final ByteBuffer netIn;
    /** Decrypted bytes not yet read, in drain mode (data between position and limit). */
    private ByteBuffer appIn;
    /** Records not yet written, in fill mode. */
    private final ByteBuffer netOut;
    private boolean inboundDone;
    private final boolean ownRecords;
    /** The record layer after the handshake, or null while (or where) the engine does it. */
    private volatile Tls13Records records;
    /** Tests renew keys sooner, and ask the peer to renew its own. */
    long keyUpdateBytes = Tls13Records.KEY_UPDATE_BYTES;
    boolean requestPeerKeyUpdate;

    SslChannel(MigrationChannel net, SSLEngine engine) {
        this(net, engine, OWN_RECORDS);
    }

    SslChannel(MigrationChannel net, SSLEngine engine, boolean ownRecords) {
        this.net = Objects.requireNonNull(net);
        this.engine = engine;
        this.ownRecords = ownRecords;
        this.packetBytes = engine.getSession().getPacketBufferSize();
        this.appBytes = engine.getSession().getApplicationBufferSize();
        // Heap buffers: the engine encrypts and decrypts in place in the record buffers, and the JDK's
        // AES-GCM runs two to three times faster on arrays than on direct buffers (measured here);
        // the socket's copy between heap and its direct buffer costs far less than that.
        this.netIn = ByteBuffer.allocate(Math.max(NET_IN_BYTES, 2 * packetBytes)).flip();
        this.appIn = ByteBuffer.allocate(appBytes).flip();
        this.netOut = ByteBuffer.allocate(Math.max(NET_OUT_BYTES, 2 * packetBytes));
    }

    /** The handshake, on the caller's thread, before the channel is shared. */
    void handshake() throws IOException {
        engine.beginHandshake();
        HandshakeStatus hs = engine.getHandshakeStatus();
        while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
            switch (hs) {
                case NEED_WRAP -> {
                    synchronized (writeLock) {
                        SSLEngineResult r = engine.wrap(EMPTY, netOut);
                        flush();
                        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                            throw new EOFException("the TLS session was closed during the handshake");
                        }
                        hs = r.getHandshakeStatus();
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    SSLEngineResult r = unwrap(appIn);
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && fill() < 0) {
                        throw new EOFException("the peer closed the connection during the TLS handshake");
                    }
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new EOFException("the peer closed the TLS session during the handshake");
                    }
                    hs = r.getHandshakeStatus();
                }
                case NEED_TASK -> {
                    runTasks();
                    hs = engine.getHandshakeStatus();
                }
                default -> throw new IllegalStateException("handshake status " + hs);
            }
        }
        if (ownRecords) {
            takeRecords();
        }
    }

    /** After the handshake: the records from the engine to {@link Tls13Records}, where the keys can be had. */
    private void takeRecords() throws IOException {
        if (engine.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING || appIn.hasRemaining()) {
            return; // the engine still has something to say, or has data decrypted already: it keeps the records
        }
        try {
            TrafficKeys[] keys = JsseKeys.extract(engine);
            records = new Tls13Records(net, keys[0], keys[1], netIn, netOut, writeLock, keyUpdateBytes, requestPeerKeyUpdate);
        } catch (ReflectiveOperationException e) {
            if (!toldWhyNot) {
                toldWhyNot = true;
                LOG.info("TLS records stay with the JDK's engine, with about 40 % more CPU per byte ({}); the host's launcher passes"
                        + " --add-opens java.base/sun.security.ssl=ALL-UNNAMED for the faster way", e.getMessage());
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new SSLException("AES-GCM is not available: " + e.getMessage(), e);
        }
    }

    /** Whether {@link Tls13Records} protects the records (else the engine does). */
    boolean ownRecords() {
        return records != null;
    }

    /** After a failed handshake: sends the alert the engine has queued, if any; the peer learns why. */
    void sendAlert() {
        try {
            synchronized (writeLock) {
                if (records != null) { // failed after the handshake (the verdict): the engine's keys are behind
                    records.closeNotify();
                    return;
                }
                engine.closeOutbound();
                engine.wrap(EMPTY, netOut);
                flush();
            }
        } catch (IOException | RuntimeException ignored) {
            // the peer is gone or the engine has nothing to say
        }
    }

    /** The first byte the peer sent, once it sent one (a TLS handshake record starts with 0x16); -1 at EOF. */
    int peekFirstByte() throws IOException {
        while (!netIn.hasRemaining()) {
            if (fill() < 0) {
                return -1;
            }
        }
        return netIn.get(netIn.position()) & 0xff;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        synchronized (readLock) {
            if (records != null) {
                return records.read(dst);
            }
            if (appIn.hasRemaining()) {
                return drain(dst);
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            while (!inboundDone) {
                boolean direct = dst.remaining() >= appBytes;
                SSLEngineResult r = unwrap(direct ? dst : appIn);
                afterUnwrap(r);
                switch (r.getStatus()) {
                    case OK -> {
                        if (r.bytesProduced() > 0) {
                            return direct ? r.bytesProduced() : drain(dst);
                        }
                    }
                    case BUFFER_UNDERFLOW -> {
                        if (fill() < 0) {
                            inboundDone = true; // end of stream without close_notify: the peer died or closed
                        }
                    }
                    case BUFFER_OVERFLOW -> growAppIn();
                    case CLOSED -> inboundDone = true;
                }
            }
            return -1;
        }
    }

    /** Unwraps one record from netIn into {@code dst} ({@link #appIn} is kept in drain mode around it). */
    private SSLEngineResult unwrap(ByteBuffer dst) throws SSLException {
        boolean app = dst == appIn;
        if (app) {
            appIn.compact();
        }
        try {
            return engine.unwrap(netIn, dst);
        } finally {
            if (app) {
                appIn.flip();
            }
        }
    }

    /** A post-handshake message (a session ticket, a KeyUpdate) may need a task run or an answer. */
    private void afterUnwrap(SSLEngineResult r) throws IOException {
        HandshakeStatus hs = r.getHandshakeStatus();
        if (hs == HandshakeStatus.NEED_TASK) {
            runTasks();
            hs = engine.getHandshakeStatus();
        }
        if (hs == HandshakeStatus.NEED_WRAP) {
            synchronized (writeLock) {
                engine.wrap(EMPTY, netOut);
                flush();
            }
        }
    }

    private void growAppIn() {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(2 * appIn.capacity(), engine.getSession().getApplicationBufferSize()));
        bigger.put(appIn).flip();
        appIn = bigger;
    }

    private int drain(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), appIn.remaining());
        ByteBuffer slice = appIn.slice(appIn.position(), n);
        dst.put(slice);
        appIn.position(appIn.position() + n);
        return n;
    }

    /** Reads more from the network; -1 at end of stream. */
    private int fill() throws IOException {
        netIn.compact();
        try {
            if (!netIn.hasRemaining()) {
                throw new SSLException("a TLS record larger than " + netIn.capacity() + " bytes");
            }
            return net.read(netIn);
        } finally {
            netIn.flip();
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        synchronized (writeLock) {
            if (records != null) {
                return records.write(srcs, offset, length);
            }
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += srcs[i].remaining();
            }
            long done = 0;
            while (done < total) {
                if (netOut.remaining() < packetBytes) {
                    flush();
                }
                SSLEngineResult r = engine.wrap(srcs, offset, length, netOut);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new ClosedChannelException();
                }
                if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
                if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && r.getStatus() == SSLEngineResult.Status.OK) {
                    throw new SSLException("the TLS session asked to renegotiate, which a migration channel does not do");
                }
                done += r.bytesConsumed();
            }
            flush();
            return done;
        }
    }

    /** Writes the records in netOut; under the write lock. */
    private void flush() throws IOException {
        netOut.flip();
        try {
            net.write(netOut);
        } finally {
            netOut.clear();
        }
    }

    /** Sends close_notify, then ends the plain channel's output: the peer reads end of stream. */
    @Override
    public void shutdownOutput() throws IOException {
        synchronized (writeLock) {
            if (records != null) {
                records.closeNotify();
                net.shutdownOutput();
                return;
            }
            engine.closeOutbound();
            while (!engine.isOutboundDone()) {
                engine.wrap(EMPTY, netOut);
                flush();
            }
        }
        net.shutdownOutput();
    }

    @Override
    public String name() {
        return net.name();
    }

    @Override
    public boolean isOpen() {
        return net.isOpen();
    }

    /** Closes the plain channel at once (no close_notify: close may come from any thread mid-write). */
    @Override
    public void close() throws IOException {
        net.close();
    }

    @Override
    public String protocol() {
        return engine.getSession().getProtocol();
    }

    @Override
    public String cipherSuite() {
        return engine.getSession().getCipherSuite();
    }

    @Override
    public String peerSubject() {
        try {
            java.security.cert.Certificate[] chain = engine.getSession().getPeerCertificates();
            return ((java.security.cert.X509Certificate) chain[0]).getSubjectX500Principal().getName();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /** The peer certificate's subject as a principal, or null when it sent none. */
    javax.security.auth.x500.X500Principal peerPrincipal() {
        try {
            return ((java.security.cert.X509Certificate) engine.getSession().getPeerCertificates()[0]).getSubjectX500Principal();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return name() + " (" + describe() + ")";
    }
}
