package io.godwit.tls.internal;

import io.godwit.api.transport.MigrationChannel;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLProtocolException;

/**
 * TLS 1.3's record layer for the AES-GCM suites (RFC 8446 5), after the JDK's handshake: what
 * {@link SslChannel} uses instead of its engine's wrap and unwrap once {@link JsseKeys} had the keys.
 * The same records on the wire, so either end may use the engine instead.
 *
 * <p>Decryption goes from the network buffer into a buffer of its own, never in place, which keeps the
 * JDK's fused AES-GCM intrinsic on (see {@link JsseKeys}); both buffers are arrays, which the intrinsic
 * needs. Post-handshake messages: a NewSessionTicket is dropped (a migration never resumes a session), a
 * KeyUpdate renews the read key and, when asked, the write key; this side renews its write key itself
 * every {@link #KEY_UPDATE_BYTES}, as the JDK does. Callers hold {@link SslChannel}'s read lock for
 * {@link #read} and its write lock for the writing methods; the reader takes the write lock to answer
 * a KeyUpdate.
 */
final class Tls13Records {

    /** The JDK's default limit for AES-GCM before a KeyUpdate ({@code jdk.tls.keyLimits}). */
    static final long KEY_UPDATE_BYTES = 1L << 37;
    static final int MAX_PLAIN = 1 << 14;
    private static final int HEADER = 5;
    private static final int TAG = 16;
    private static final int MAX_CIPHER = MAX_PLAIN + 256;
    private static final byte APPLICATION_DATA = 23;
    private static final byte ALERT = 21;
    private static final byte HANDSHAKE = 22;
    private static final byte NEW_SESSION_TICKET = 4;
    private static final byte KEY_UPDATE = 24;
    private static final int MAX_HANDSHAKE = 1 << 16;

    private final MigrationChannel net;
    private final Object writeLock;
    private final long keyUpdateBytes;
    private final boolean requestPeerUpdate;

    private final TrafficKeys readKeys;
    private final Cipher readCipher;
    /** Bytes from the network not yet decrypted, drain mode; the engine's leftovers at first. */
    private final ByteBuffer netIn;
    /** The last record's plaintext, from {@link #plainPos} to {@link #plainLimit}. */
    private final byte[] plainIn = new byte[MAX_CIPHER];
    private int plainPos;
    private int plainLimit;
    /** Handshake bytes not yet a whole message (a message may span records). */
    private final ByteBuffer handshake = ByteBuffer.allocate(MAX_HANDSHAKE);
    private boolean inboundDone;

    private final TrafficKeys writeKeys;
    private final Cipher writeCipher;
    private final byte[] plainOut = new byte[MAX_PLAIN + 1];
    /** Records not yet written, fill mode. */
    private final ByteBuffer netOut;
    private long writtenSinceUpdate;

    Tls13Records(MigrationChannel net, TrafficKeys read, TrafficKeys write, ByteBuffer netIn, ByteBuffer netOut,
            Object writeLock, long keyUpdateBytes, boolean requestPeerUpdate) throws GeneralSecurityException {
        this.requestPeerUpdate = requestPeerUpdate;
        this.net = net;
        this.readKeys = read;
        this.writeKeys = write;
        this.netIn = netIn;
        this.netOut = netOut;
        this.writeLock = writeLock;
        this.keyUpdateBytes = keyUpdateBytes;
        this.readCipher = Cipher.getInstance("AES/GCM/NoPadding");
        this.writeCipher = Cipher.getInstance("AES/GCM/NoPadding");
        if (!netIn.hasArray() || !netOut.hasArray()) {
            throw new IllegalArgumentException("the record buffers must be arrays");
        }
    }

    /** As {@link java.nio.channels.ReadableByteChannel#read}; under the read lock. */
    int read(ByteBuffer dst) throws IOException {
        while (plainPos == plainLimit) {
            if (inboundDone) {
                return -1;
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            nextRecord();
        }
        int n = Math.min(dst.remaining(), plainLimit - plainPos);
        dst.put(plainIn, plainPos, n);
        plainPos += n;
        return n;
    }

    /** Reads and opens one record; its application data (if any) is left in plainIn. */
    private void nextRecord() throws IOException {
        int length = bufferRecord();
        if (length < 0) {
            inboundDone = true; // end of stream without close_notify: the peer died or closed
            return;
        }
        int at = netIn.position();
        byte[] in = netIn.array();
        int offset = netIn.arrayOffset() + at;
        int n;
        try {
            readCipher.init(Cipher.DECRYPT_MODE, readKeys.key(), readKeys.nextNonce());
            readCipher.updateAAD(in, offset, HEADER);
            n = readCipher.doFinal(in, offset + HEADER, length, plainIn, 0);
        } catch (AEADBadTagException e) {
            throw new SSLException("bad_record_mac: TLS record " + (readKeys.sequence() - 1) + " failed its integrity check");
        } catch (GeneralSecurityException e) {
            throw new SSLException("TLS record " + (readKeys.sequence() - 1) + " could not be decrypted: " + e.getMessage(), e);
        } finally {
            netIn.position(at + HEADER + length);
        }
        while (n > 0 && plainIn[n - 1] == 0) {
            n--; // padding
        }
        if (n == 0) {
            throw new SSLProtocolException("unexpected_message: a TLS record without a content type");
        }
        byte type = plainIn[n - 1];
        plainPos = 0;
        plainLimit = type == APPLICATION_DATA ? n - 1 : 0;
        if (type == ALERT) {
            alert(n - 1);
        } else if (type == HANDSHAKE) {
            postHandshake(n - 1);
        } else if (type != APPLICATION_DATA) {
            throw new SSLProtocolException("unexpected_message: a TLS record of content type " + type + " after the handshake");
        }
    }

    /** Makes sure netIn holds a whole record; its ciphertext's length, or -1 at a clean end of stream. */
    private int bufferRecord() throws IOException {
        while (true) {
            if (netIn.remaining() >= HEADER) {
                int at = netIn.position();
                int type = netIn.get(at);
                int version = ((netIn.get(at + 1) & 0xff) << 8) | (netIn.get(at + 2) & 0xff);
                int length = ((netIn.get(at + 3) & 0xff) << 8) | (netIn.get(at + 4) & 0xff);
                if (type != APPLICATION_DATA || version != 0x0303 || length <= TAG || length > MAX_CIPHER) {
                    throw new SSLProtocolException("unexpected_message: not a protected TLS 1.3 record (type " + type
                            + ", version 0x" + Integer.toHexString(version) + ", length " + length + ")");
                }
                if (netIn.remaining() >= HEADER + length) {
                    return length;
                }
            }
            if (fill() < 0) {
                if (netIn.hasRemaining()) {
                    throw new EOFException("the peer closed the connection in the middle of a TLS record");
                }
                return -1;
            }
        }
    }

    private int fill() throws IOException {
        netIn.compact();
        try {
            return net.read(netIn);
        } finally {
            netIn.flip();
        }
    }

    /** close_notify ends the stream; any other alert fails it, naming the alert. */
    private void alert(int length) throws SSLException {
        if (length != 2) {
            throw new SSLProtocolException("decode_error: a TLS alert of " + length + " bytes");
        }
        int description = plainIn[1] & 0xff;
        if (description == 0) {
            inboundDone = true;
            return;
        }
        // the JDK's own words, which HandshakeFailures reads (in TLS 1.3 a server refuses a client's
        // certificate after the client's handshake is over, so the alert comes through here)
        throw new SSLException("Received " + (plainIn[0] == 2 ? "fatal" : "warning") + " alert: " + alertName(description));
    }

    private static String alertName(int description) {
        return switch (description) {
            case 10 -> "unexpected_message";
            case 20 -> "bad_record_mac";
            case 22 -> "record_overflow";
            case 40 -> "handshake_failure";
            case 42 -> "bad_certificate";
            case 43 -> "unsupported_certificate";
            case 44 -> "certificate_revoked";
            case 45 -> "certificate_expired";
            case 46 -> "certificate_unknown";
            case 47 -> "illegal_parameter";
            case 48 -> "unknown_ca";
            case 49 -> "access_denied";
            case 50 -> "decode_error";
            case 51 -> "decrypt_error";
            case 70 -> "protocol_version";
            case 71 -> "insufficient_security";
            case 80 -> "internal_error";
            case 90 -> "user_canceled";
            case 109 -> "missing_extension";
            case 110 -> "unsupported_extension";
            case 112 -> "unrecognized_name";
            case 116 -> "certificate_required";
            default -> "alert_" + description;
        };
    }

    /** Handshake messages after the handshake: NewSessionTicket is dropped, KeyUpdate renews keys. */
    private void postHandshake(int length) throws IOException {
        if (handshake.remaining() < length) {
            throw new SSLProtocolException("unexpected_message: post-handshake messages of over " + MAX_HANDSHAKE + " bytes");
        }
        handshake.put(plainIn, 0, length);
        handshake.flip();
        try {
            while (handshake.remaining() >= 4) {
                int type = handshake.get(handshake.position());
                int size = handshake.getInt(handshake.position()) & 0xffffff;
                if (handshake.remaining() < 4 + size) {
                    break;
                }
                handshake.position(handshake.position() + 4);
                if (type == KEY_UPDATE) {
                    keyUpdate(size);
                } else if (type == NEW_SESSION_TICKET) {
                    handshake.position(handshake.position() + size);
                } else {
                    throw new SSLProtocolException("unexpected_message: handshake message " + type + " after the handshake");
                }
            }
        } finally {
            handshake.compact();
        }
    }

    private void keyUpdate(int size) throws IOException {
        if (size != 1 || handshake.remaining() != 1) {
            throw new SSLProtocolException("unexpected_message: a KeyUpdate must end its record and hold one byte");
        }
        int request = handshake.get();
        if (request != 0 && request != 1) {
            throw new SSLProtocolException("illegal_parameter: KeyUpdate request " + request);
        }
        try {
            readKeys.update();
        } catch (GeneralSecurityException e) {
            throw new SSLException("the read key could not be renewed: " + e.getMessage(), e);
        }
        if (request == 1) {
            synchronized (writeLock) {
                sendKeyUpdate(false);
                flush();
            }
        }
    }

    /** As {@link java.nio.channels.GatheringByteChannel#write}: records of up to 16 KiB, then one socket write. */
    long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long done = 0;
        int i = offset;
        while (true) {
            int n = 0;
            for (; i < offset + length && n < MAX_PLAIN; i++) {
                int k = Math.min(srcs[i].remaining(), MAX_PLAIN - n);
                srcs[i].get(plainOut, n, k);
                n += k;
                if (srcs[i].hasRemaining()) {
                    break;
                }
            }
            if (n == 0) {
                break;
            }
            seal(APPLICATION_DATA, n);
            done += n;
            writtenSinceUpdate += n;
            if (writtenSinceUpdate >= keyUpdateBytes) {
                sendKeyUpdate(requestPeerUpdate);
            }
        }
        flush();
        return done;
    }

    /** Sends close_notify; under the write lock. */
    void closeNotify() throws IOException {
        plainOut[0] = 1; // warning
        plainOut[1] = 0; // close_notify
        seal(ALERT, 2);
        flush();
    }

    /** A KeyUpdate under the old key, then the new key for what follows; under the write lock. */
    private void sendKeyUpdate(boolean requestPeer) throws IOException {
        plainOut[0] = KEY_UPDATE;
        plainOut[1] = 0;
        plainOut[2] = 0;
        plainOut[3] = 1;
        plainOut[4] = (byte) (requestPeer ? 1 : 0);
        seal(HANDSHAKE, 5);
        try {
            writeKeys.update();
        } catch (GeneralSecurityException e) {
            throw new SSLException("the write key could not be renewed: " + e.getMessage(), e);
        }
        writtenSinceUpdate = 0;
    }

    /** Encrypts plainOut's first {@code n} bytes as one record of {@code type} into netOut. */
    private void seal(byte type, int n) throws IOException {
        int length = n + 1 + TAG;
        if (netOut.remaining() < HEADER + length) {
            flush();
        }
        plainOut[n] = type;
        byte[] out = netOut.array();
        int at = netOut.arrayOffset() + netOut.position();
        out[at] = APPLICATION_DATA;
        out[at + 1] = 3;
        out[at + 2] = 3;
        out[at + 3] = (byte) (length >>> 8);
        out[at + 4] = (byte) length;
        try {
            writeCipher.init(Cipher.ENCRYPT_MODE, writeKeys.key(), writeKeys.nextNonce());
            writeCipher.updateAAD(out, at, HEADER);
            writeCipher.doFinal(plainOut, 0, n + 1, out, at + HEADER);
        } catch (GeneralSecurityException e) {
            throw new SSLException("a TLS record could not be encrypted: " + e.getMessage(), e);
        }
        netOut.position(netOut.position() + HEADER + length);
    }

    /** Writes the records in netOut. */
    private void flush() throws IOException {
        netOut.flip();
        try {
            while (netOut.hasRemaining()) {
                net.write(netOut);
            }
        } finally {
            netOut.clear();
        }
    }
}
