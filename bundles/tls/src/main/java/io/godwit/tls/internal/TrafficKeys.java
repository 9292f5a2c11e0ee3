package io.godwit.tls.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One direction's TLS 1.3 record protection state (RFC 8446 5.3, 7.2): the traffic secret, the
 * AES-GCM key and IV derived from it, and the next record's sequence number. Owned by the one thread
 * that reads (or writes) under its channel's lock; not thread-safe.
 */
final class TrafficKeys {

    private final String hmac;
    private byte[] secret;
    private SecretKeySpec key;
    private byte[] iv;
    private long sequence;

    /** The state as the handshake left it: key and IV as given, the next record numbered {@code sequence}. */
    TrafficKeys(String hmac, byte[] secret, byte[] key, byte[] iv, long sequence) {
        this.hmac = hmac;
        this.secret = secret.clone();
        this.key = new SecretKeySpec(key, "AES");
        this.iv = iv.clone();
        this.sequence = sequence;
    }

    /** The key in force. */
    SecretKeySpec key() {
        return key;
    }

    /** The next record's nonce (the IV xor its sequence number), counting the record as used. */
    GCMParameterSpec nextNonce() {
        byte[] nonce = iv.clone();
        long n = sequence++;
        for (int i = 0; i < 8; i++) {
            nonce[nonce.length - 1 - i] ^= (byte) (n >>> (8 * i));
        }
        return new GCMParameterSpec(128, nonce);
    }

    long sequence() {
        return sequence;
    }

    /** After a KeyUpdate: the next generation's secret, key and IV; the sequence starts again at 0. */
    void update() throws GeneralSecurityException {
        byte[] next = expandLabel(hmac, secret, "traffic upd", secret.length);
        java.util.Arrays.fill(secret, (byte) 0);
        secret = next;
        key = new SecretKeySpec(expandLabel(hmac, secret, "key", key.getEncoded().length), "AES");
        iv = expandLabel(hmac, secret, "iv", iv.length);
        sequence = 0;
    }

    /** HKDF-Expand-Label(secret, label, "", length) of RFC 8446 7.1. */
    static byte[] expandLabel(String hmac, byte[] secret, String label, int length) throws NoSuchAlgorithmException, InvalidKeyException {
        byte[] full = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        byte[] info = new byte[2 + 1 + full.length + 1];
        info[0] = (byte) (length >>> 8);
        info[1] = (byte) length;
        info[2] = (byte) full.length;
        System.arraycopy(full, 0, info, 3, full.length);
        info[info.length - 1] = 0; // empty context
        return expand(hmac, secret, info, length);
    }

    /** HKDF-Expand of RFC 5869. */
    private static byte[] expand(String hmac, byte[] prk, byte[] info, int length) throws NoSuchAlgorithmException, InvalidKeyException {
        Mac mac = Mac.getInstance(hmac);
        mac.init(new SecretKeySpec(prk, hmac));
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        for (int done = 0, i = 1; done < length; i++) {
            mac.update(t);
            mac.update(info);
            mac.update((byte) i);
            t = mac.doFinal();
            int n = Math.min(t.length, length - done);
            System.arraycopy(t, 0, out, done, n);
            done += n;
        }
        return out;
    }
}
