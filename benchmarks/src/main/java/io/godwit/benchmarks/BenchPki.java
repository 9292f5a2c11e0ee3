package io.godwit.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The TLS scenarios' certificates, made with {@code openssl} the way docs/tls.md tells a user to: a CA,
 * a destination certificate for 127.0.0.1 and a source certificate, in the two folders
 * {@code tls-creds-x509} reads ({@code server/} and {@code client/}, QEMU's file names).
 */
final class BenchPki {

    private BenchPki() {}

    /** Makes {@code root/server} and {@code root/client}; returns {@code root}. */
    static Path make(Path root) throws IOException, InterruptedException {
        Path ca = Files.createDirectories(root.resolve("ca"));
        openssl(ca, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca-key.pem", "-out", "ca-cert.pem", "-days", "2", "-subj", "/O=Godwit bench/CN=bench CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        leaf(ca, root.resolve("server"), "server", "serverAuth", "subjectAltName=IP:127.0.0.1\n");
        leaf(ca, root.resolve("client"), "client", "clientAuth", "");
        return root;
    }

    private static void leaf(Path ca, Path dir, String prefix, String usage, String san)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.copy(ca.resolve("ca-cert.pem"), dir.resolve("ca-cert.pem"));
        openssl(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", prefix + "-key.pem", "-out", prefix + ".csr", "-subj", "/O=Godwit bench/CN=" + prefix);
        Files.writeString(dir.resolve(prefix + ".ext"), "basicConstraints=CA:FALSE\n"
                + "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=" + usage + "\n" + san);
        openssl(dir, "x509", "-req", "-in", prefix + ".csr", "-CA", ca.resolve("ca-cert.pem").toString(),
                "-CAkey", ca.resolve("ca-key.pem").toString(), "-CAcreateserial", "-out", prefix + "-cert.pem",
                "-days", "2", "-extfile", prefix + ".ext");
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed (the TLS scenarios need openssl): "
                    + new String(out, StandardCharsets.UTF_8).strip());
        }
    }
}
