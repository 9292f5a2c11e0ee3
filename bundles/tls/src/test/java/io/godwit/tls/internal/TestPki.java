package io.godwit.tls.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for tests, made with the {@code openssl} command as docs/tls.md tells a user to (a CA
 * with {@code openssl req -x509}, leaves with {@code openssl ca}, which takes explicit validity dates,
 * so expired and not-yet-valid certificates are made too). Tests skip where openssl is missing.
 */
public final class TestPki {

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Path root;

    public TestPki(Path root) {
        this.root = root;
    }

    public static boolean opensslPresent() {
        try {
            return new ProcessBuilder("openssl", "version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** A self-signed CA in its own folder: {@code ca-cert.pem}, {@code ca-key.pem} and openssl ca's files. */
    public Path ca(String name) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(root.resolve("ca-" + name));
        Files.createDirectories(dir.resolve("newcerts"));
        Files.writeString(dir.resolve("index.txt"), "");
        Files.writeString(dir.resolve("serial"), "1000\n");
        Files.writeString(dir.resolve("ca.cnf"), """
                [ca]
                default_ca = godwit
                [godwit]
                dir = %s
                database = $dir/index.txt
                new_certs_dir = $dir/newcerts
                serial = $dir/serial
                default_md = sha256
                default_crl_days = 1
                policy = any
                unique_subject = no
                preserve = yes
                [any]
                organizationName = optional
                commonName = supplied
                """.formatted(dir));
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca-key.pem", "-out", "ca-cert.pem", "-days", "2", "-subj", "/O=Godwit/CN=" + name,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return dir;
    }

    /**
     * A leaf certificate and key signed by {@code ca}, valid from {@code from} to {@code to}, written as
     * {@code PREFIX-cert.pem} and {@code PREFIX-key.pem} into {@code dir}.
     *
     * @param san subjectAltName entries, e.g. {@code IP:127.0.0.1,DNS:localhost}; null for none
     * @param rsaPkcs1 an RSA key in PKCS#1 ("RSA PRIVATE KEY", as certtool writes) instead of EC PKCS#8
     */
    public Path leaf(Path ca, Path dir, String prefix, String subject, String san, Instant from, Instant to, boolean rsaPkcs1)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path key = dir.resolve(prefix + "-key.pem");
        if (rsaPkcs1) {
            openssl(dir, "genrsa", "-traditional", "-out", key.toString(), "2048");
        } else {
            openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", key.toString());
        }
        Path csr = dir.resolve(prefix + ".csr");
        openssl(dir, "req", "-new", "-key", key.toString(), "-out", csr.toString(), "-subj", subject);
        Path ext = dir.resolve(prefix + ".ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                + "extendedKeyUsage=" + (prefix.equals("server") ? "serverAuth" : "clientAuth") + "\n"
                + (san == null ? "" : "subjectAltName=" + san + "\n"));
        openssl(ca, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca-cert.pem", "-keyfile", "ca-key.pem",
                "-in", csr.toString(), "-out", dir.resolve(prefix + "-cert.pem").toString(), "-notext",
                "-startdate", STAMP.format(from), "-enddate", STAMP.format(to), "-extfile", ext.toString());
        Files.delete(csr);
        Files.delete(ext);
        return dir;
    }

    /** Valid from a day ago for a day more. */
    public static Instant dayAgo() {
        return Instant.now().minus(1, ChronoUnit.DAYS);
    }

    public static Instant dayAhead() {
        return Instant.now().plus(1, ChronoUnit.DAYS);
    }

    /**
     * The usual pair under {@code dir}: {@code server/} (CN=server, for 127.0.0.1) and {@code client/}
     * (CN=client), valid now, each trusting the one CA that signed both.
     */
    public static void serverAndClient(Path dir) throws IOException, InterruptedException {
        TestPki p = new TestPki(dir);
        Path ca = p.ca("ca");
        p.leaf(ca, dir.resolve("server"), "server", "/O=Godwit/CN=server", "IP:127.0.0.1", dayAgo(), dayAhead(), false);
        p.leaf(ca, dir.resolve("client"), "client", "/O=Godwit/CN=client", null, dayAgo(), dayAhead(), false);
        trust(ca, dir.resolve("server"));
        trust(ca, dir.resolve("client"));
    }

    /** Copies {@code ca}'s certificate into {@code dir} as its ca-cert.pem. */
    public static void trust(Path ca, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.copy(ca.resolve("ca-cert.pem"), dir.resolve("ca-cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Revokes {@code cert} and writes the CA's CRL as {@code dir/ca-crl.pem}. */
    public void revoke(Path ca, Path cert, Path dir) throws IOException, InterruptedException {
        openssl(ca, "ca", "-config", "ca.cnf", "-cert", "ca-cert.pem", "-keyfile", "ca-key.pem", "-revoke", cert.toString());
        openssl(ca, "ca", "-config", "ca.cnf", "-cert", "ca-cert.pem", "-keyfile", "ca-key.pem", "-gencrl",
                "-out", dir.resolve("ca-crl.pem").toString());
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
    }
}
