package io.godwit.tls.internal;

import java.lang.reflect.Field;
import java.security.Key;
import java.util.Map;
import javax.crypto.SecretKey;
import javax.net.ssl.SSLEngine;

/**
 * The traffic keys the JDK's TLS 1.3 handshake agreed, read out of its {@link SSLEngine} once the
 * handshake is over, so {@link Tls13Records} can protect the records instead of the engine.
 *
 * <p>Why: the engine decrypts each record in place in its input buffer, and for in-place decryption
 * the JDK turns off its fused AES-GCM intrinsic; measured here, raw AES-128-GCM decrypts 7.3 GiB/s
 * from one array into another and 3.4 GiB/s in place, and a migration's receiver spent most of its CPU
 * there. The JDK has no API for the keys (no key log), so they are read from {@code sun.security.ssl}'s
 * private fields, which needs {@code --add-opens java.base/sun.security.ssl=ALL-UNNAMED} (the host's
 * launcher passes it). Where that fails (another JDK, the option missing) the engine keeps the records:
 * slower, same protocol.
 */
final class JsseKeys {

    /** The suites whose record protection {@link Tls13Records} does, with their HKDF's HMAC. */
    private static final Map<String, String> SUITES = Map.of(
            "TLS_AES_128_GCM_SHA256", "HmacSHA256",
            "TLS_AES_256_GCM_SHA384", "HmacSHA384");

    private JsseKeys() {
    }

    /** The read and write keys, in that order, or an exception saying why they cannot be had. */
    static TrafficKeys[] extract(SSLEngine engine) throws ReflectiveOperationException {
        String suite = engine.getSession().getCipherSuite();
        String hmac = SUITES.get(suite);
        if (!"TLSv1.3".equals(engine.getSession().getProtocol()) || hmac == null) {
            throw new ReflectiveOperationException("records of " + engine.getSession().getProtocol() + " " + suite
                    + " stay with the JDK's engine");
        }
        Object context = field(engine, "conContext");
        Object read = field(field(context, "inputRecord"), "readCipher");
        Object write = field(field(context, "outputRecord"), "writeCipher");
        return new TrafficKeys[] {keys(hmac, read), keys(hmac, write)};
    }

    /** One direction: an {@code SSLCipher.SSLReadCipher} or {@code SSLWriteCipher} of the GCM kind. */
    private static TrafficKeys keys(String hmac, Object cipher) throws ReflectiveOperationException {
        if (!cipher.getClass().getName().contains("Gcm")) {
            throw new ReflectiveOperationException("the engine's cipher is " + cipher.getClass().getName() + ", not GCM");
        }
        Key key = (Key) field(cipher, "key");
        byte[] iv = (byte[]) field(cipher, "iv");
        SecretKey secret = (SecretKey) field(cipher, "baseSecret");
        byte[] block = (byte[]) field(field(cipher, "authenticator"), "block");
        byte[] keyBytes = key.getEncoded();
        byte[] secretBytes = secret == null ? null : secret.getEncoded();
        if (keyBytes == null || secretBytes == null || iv.length != 12 || block.length < 8) {
            throw new ReflectiveOperationException("the engine's key material cannot be read");
        }
        long sequence = 0;
        for (int i = 0; i < 8; i++) {
            sequence = (sequence << 8) | (block[i] & 0xff);
        }
        return new TrafficKeys(hmac, secretBytes, keyBytes, iv, sequence);
    }

    /** A private field of {@code o} or of a class it extends, by name. */
    private static Object field(Object o, String name) throws ReflectiveOperationException {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true); // InaccessibleObjectException without the add-opens
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            } catch (RuntimeException e) {
                throw new ReflectiveOperationException(e.getMessage(), e);
            }
        }
        throw new NoSuchFieldException(o.getClass().getName() + "." + name);
    }
}
