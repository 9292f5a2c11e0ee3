package io.godwit.tls.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * QEMU's {@code tls-creds-x509}: a folder of PEM files with QEMU's names, read and checked once at
 * {@code object_add}, and the JDK {@link SSLContext} made from them. The CA certificates in
 * {@code ca-cert.pem} are the only trust anchors (the JDK's cacerts play no part); {@code ca-crl.pem},
 * when present, is checked for every peer certificate. The key stays inside the context.
 */
final class X509Credentials {

    static final String TYPE = "tls-creds-x509";
    static final Set<String> KEYS = Set.of("dir", "endpoint", "verify-peer");
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    final String id;
    final Path dir;
    final boolean server;
    final boolean verifyPeer;
    private final SSLContext context;
    private final Map<String, String> description = new LinkedHashMap<>();

    private X509Credentials(String id, Path dir, boolean server, boolean verifyPeer, SSLContext context) {
        this.id = id;
        this.dir = dir;
        this.server = server;
        this.verifyPeer = verifyPeer;
        this.context = context;
    }

    static X509Credentials load(ObjectSpec spec) {
        spec.allowOnly(KEYS);
        Path dir = Path.of(spec.require("dir")).toAbsolutePath().normalize();
        String endpoint = spec.get("endpoint", "client");
        if (!endpoint.equals("client") && !endpoint.equals("server")) {
            throw new IllegalArgumentException(TYPE + " '" + spec.id() + "': endpoint is client or server, not '"
                    + endpoint + "'");
        }
        boolean server = endpoint.equals("server");
        boolean verifyPeer = spec.flag("verify-peer", true);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(TYPE + " '" + spec.id() + "': dir " + dir + " is not a folder");
        }
        try {
            Map<String, String> seen = new LinkedHashMap<>();
            List<X509Certificate> cas = Pem.certificates(dir.resolve("ca-cert.pem"));
            seen.put("ca", subjects(cas));
            Path crlFile = dir.resolve("ca-crl.pem");
            List<X509CRL> crls = Files.exists(crlFile) ? Pem.crls(crlFile) : List.of();
            if (!crls.isEmpty()) {
                seen.put("crl", crls.size() + " list(s), " + crls.stream().mapToInt(c ->
                        c.getRevokedCertificates() == null ? 0 : c.getRevokedCertificates().size()).sum() + " revoked");
            }
            KeyManager[] keys = keys(dir, endpoint, server, seen);
            TrustManager[] trust = verifyPeer || server ? trust(cas, crls) : new TrustManager[] {new TrustAll()};
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            X509Credentials creds = new X509Credentials(spec.id(), dir, server, verifyPeer, context);
            creds.description.put("dir", dir.toString());
            creds.description.put("endpoint", endpoint);
            creds.description.put("verify-peer", verifyPeer ? "on" : "off");
            creds.description.putAll(seen);
            return creds;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(TYPE + " '" + spec.id() + "': " + e.getMessage(), e);
        }
    }

    /** This side's certificate and key: required on a server, optional (both or neither) on a client. */
    private static KeyManager[] keys(Path dir, String endpoint, boolean server, Map<String, String> seen)
            throws IOException, GeneralSecurityException {
        Path certFile = dir.resolve(endpoint + "-cert.pem");
        Path keyFile = dir.resolve(endpoint + "-key.pem");
        if (!server && !Files.exists(certFile) && !Files.exists(keyFile)) {
            seen.put("certificate", "none (an anonymous client: a server with verify-peer=on refuses it)");
            return null;
        }
        List<X509Certificate> chain = Pem.certificates(certFile);
        PrivateKey key = Pem.privateKey(keyFile);
        requireMatch(chain.get(0), key, certFile, keyFile);
        X509Certificate cert = chain.get(0);
        seen.put("certificate", cert.getSubjectX500Principal().getName() + ", valid " + cert.getNotBefore().toInstant()
                + " to " + cert.getNotAfter().toInstant() + validity(cert));
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] pass = new char[0];
        store.setKeyEntry("key", key, pass, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(store, pass);
        return kmf.getKeyManagers();
    }

    /** A warning where the certificate is out of its validity now (its peer will refuse it). */
    private static String validity(X509Certificate cert) {
        Date now = new Date();
        if (now.after(cert.getNotAfter())) {
            return " (EXPIRED: peers will refuse it)";
        }
        return now.before(cert.getNotBefore()) ? " (NOT YET VALID: peers will refuse it)" : "";
    }

    private static void requireMatch(X509Certificate cert, PrivateKey key, Path certFile, Path keyFile)
            throws IOException {
        try {
            String algorithm = switch (key.getAlgorithm()) {
                case "RSA" -> "SHA256withRSA";
                case "EC" -> "SHA256withECDSA";
                default -> key.getAlgorithm();
            };
            byte[] probe = "godwit".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            if (verify.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another kind than the certificate's: not a match either
        }
        throw new IOException(keyFile + " is not the key of " + certFile);
    }

    private static TrustManager[] trust(List<X509Certificate> cas, List<X509CRL> crls) throws GeneralSecurityException {
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate ca : cas) {
            anchors.add(new TrustAnchor(ca, null));
        }
        PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, new X509CertSelector());
        if (crls.isEmpty()) {
            params.setRevocationEnabled(false); // no CRL given: nothing to check (no OCSP, no fetching)
        } else {
            List<Object> store = new ArrayList<>(crls);
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(store)));
            PKIXRevocationChecker checker = (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
            checker.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
                    PKIXRevocationChecker.Option.NO_FALLBACK));
            params.addCertPathChecker(checker);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(new CertPathTrustManagerParameters(params));
        return tmf.getTrustManagers();
    }

    private static String subjects(List<X509Certificate> certs) {
        return String.join("; ", certs.stream().map(c -> c.getSubjectX500Principal().getName() + validity(c)).toList());
    }

    /**
     * An engine for one channel. A client checks the server's name ({@code hostname}) the way HTTPS
     * does (subjectAltName DNS or IP entries); with verify-peer=off it checks nothing. A server with
     * verify-peer=on requires a client certificate.
     */
    SSLEngine engine(String hostname) {
        SSLEngine engine = server ? context.createSSLEngine() : context.createSSLEngine(hostname, 0);
        engine.setUseClientMode(!server);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setCipherSuites(aes128First(p.getCipherSuites()));
        p.setUseCipherSuitesOrder(true);
        if (server) {
            p.setNeedClientAuth(verifyPeer);
        } else if (verifyPeer) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        engine.setSSLParameters(p);
        return engine;
    }

    /**
     * The engine's suites with the AES-128-GCM ones first, the rest in the JDK's order. The JDK puts
     * AES-256 first; AES-128 has 10 rounds to its 14 (the JDK's cipher alone encrypts 1.2 and decrypts
     * 1.45 times as fast here; through SSLEngine, with its copies, less) and is still 128-bit security,
     * the suite TLS 1.3 requires of every peer. A stream of guest RAM is bound by the cipher's cost.
     */
    static String[] aes128First(String[] suites) {
        List<String> ordered = new ArrayList<>(List.of(suites));
        ordered.sort(java.util.Comparator.comparing(s -> !s.contains("_AES_128_GCM_")));
        return ordered.toArray(String[]::new);
    }

    Map<String, String> description() {
        return description;
    }

    /** verify-peer=off on a client: QEMU's insecure mode, any server certificate is taken. */
    private static final class TrustAll extends javax.net.ssl.X509ExtendedTrustManager {
        @Override public void checkClientTrusted(X509Certificate[] c, String a, java.net.Socket s) {}
        @Override public void checkServerTrusted(X509Certificate[] c, String a, java.net.Socket s) {}
        @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}
        @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}
        @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
        @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
        @Override public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
