package io.godwit.tls.internal;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the JDK's AES-GCM compiled before the first TLS migration: its intrinsics (the fused AES-GCM,
 * GHASH, AES-CTR) only run in C2-compiled code, and until the JIT gets there a host's first TLS
 * migration crawls through the Java fallbacks (measured: the first static 1 GiB with TLS took 4 s, the
 * next ones 0.8-1.4 s). Started once per host when the first {@code tls-creds-x509} object is added, on a
 * background thread ({@code tls-warmup}, lowest priority): small records sealed and opened as
 * {@link Tls13Records} does, enough calls for the JIT's top tier, a fraction of a CPU second.
 */
final class CipherWarmup {

    private static final Logger LOG = LoggerFactory.getLogger(CipherWarmup.class);
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    /** Calls of each method: past the JIT's top-tier thresholds (Tier4InvocationThreshold 5000, compile 15000). */
    static final int RECORDS = 20_000;
    /** One record's plaintext: one block of the fused intrinsic (768 bytes) and a tail, as a full record has. */
    private static final int PLAIN = 800;

    private CipherWarmup() {
    }

    /** Starts the warm-up unless it ran already. */
    static void start() {
        if (STARTED.compareAndSet(false, true)) {
            Thread t = Thread.ofPlatform().name("tls-warmup").daemon().unstarted(CipherWarmup::runLogged);
            t.setPriority(Thread.MIN_PRIORITY);
            t.start();
        }
    }

    /** Whether a warm-up was started in this JVM. */
    static boolean started() {
        return STARTED.get();
    }

    private static void runLogged() {
        try {
            long t0 = System.nanoTime();
            run(RECORDS);
            LOG.debug("AES-GCM warmed up in {} ms", (System.nanoTime() - t0) / 1_000_000);
        } catch (GeneralSecurityException | RuntimeException e) {
            LOG.debug("AES-GCM warm-up failed: {}", e.toString());
        }
    }

    /**
     * Seals and opens {@code records} small records, then a tenth as many full ones (the loops over a
     * whole record get hot only then); fails if one does not open to what was sealed.
     */
    static void run(int records) throws GeneralSecurityException {
        run(records, PLAIN);
        run(records / 10, Tls13Records.MAX_PLAIN + 1);
    }

    private static void run(int records, int size) throws GeneralSecurityException {
        SecretKeySpec key = new SecretKeySpec(new byte[16], "AES");
        Cipher seal = Cipher.getInstance("AES/GCM/NoPadding");
        Cipher open = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] plain = new byte[size];
        byte[] record = new byte[5 + size + 16];
        byte[] opened = new byte[size + 16];
        byte[] iv = new byte[12];
        iv[0] = (byte) size;
        iv[1] = (byte) (size >>> 8);
        for (int i = 0; i < records; i++) {
            plain[i % size] = (byte) i;
            iv[4] = (byte) (i >>> 24);
            iv[5] = (byte) (i >>> 16);
            iv[6] = (byte) (i >>> 8);
            iv[7] = (byte) i;
            GCMParameterSpec nonce = new GCMParameterSpec(128, iv.clone());
            seal.init(Cipher.ENCRYPT_MODE, key, nonce);
            seal.updateAAD(record, 0, 5);
            seal.doFinal(plain, 0, size, record, 5);
            open.init(Cipher.DECRYPT_MODE, key, nonce);
            open.updateAAD(record, 0, 5);
            int n = open.doFinal(record, 5, size + 16, opened, 0);
            if (n != size || !Arrays.equals(plain, 0, size, opened, 0, size)) {
                throw new GeneralSecurityException("record " + i + " did not open to what was sealed");
            }
        }
    }
}
