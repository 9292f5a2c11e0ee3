package io.godwit.tls.internal;

import io.godwit.api.tls.TlsHandshakeException;
import java.io.EOFException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateRevokedException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A failed handshake's exception as one line that names the cause, from the point of view of the side
 * that saw it: the JDK's messages name a class path ("PKIX path building failed:
 * sun.security.provider.certpath...") where the user needs "not signed by a CA in ca-cert.pem".
 */
final class HandshakeFailures {

    private static final Pattern ALERT = Pattern.compile("Received fatal alert: (\\w+)");

    private HandshakeFailures() {}

    /**
     * @param peer "the destination" or "the source"
     * @param creds the local credentials (their folder is named where the CA is at fault)
     */
    static TlsHandshakeException describe(Throwable e, String peer, X509Credentials creds) {
        return new TlsHandshakeException("TLS handshake failed: " + cause(e, peer, creds), false, e);
    }

    static String cause(Throwable e, String peer, X509Credentials creds) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException) {
                return peer + "'s certificate has expired (" + t.getMessage() + ")";
            }
            if (t instanceof CertificateNotYetValidException) {
                return peer + "'s certificate is not yet valid (" + t.getMessage() + ")";
            }
            if (t instanceof CertificateRevokedException
                    || t instanceof CertPathValidatorException v && v.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
                return peer + "'s certificate is revoked by " + creds.dir.resolve("ca-crl.pem");
            }
        }
        String all = messages(e);
        Matcher alert = ALERT.matcher(all);
        if (alert.find()) {
            return peer + " refused this host (TLS alert " + alert.group(1) + ": " + alertMeaning(alert.group(1)) + ")";
        }
        if (all.contains("No subject alternative") || all.contains("No name matching")) {
            return peer + "'s certificate does not carry the name this host checked (" + firstLine(all, "No ")
                    + "); set tls-hostname to a name in its subjectAltName";
        }
        if (all.contains("unable to find valid certification path") || all.contains("PKIX path")
                || all.contains("Path does not chain")) {
            return peer + "'s certificate is not signed by a CA in " + creds.dir.resolve("ca-cert.pem");
        }
        if (all.contains("Empty client certificate chain") || all.contains("certificate_required")) {
            return peer + " sent no certificate, and verify-peer is on here";
        }
        if (e instanceof EOFException || all.contains("Remote host terminated")) {
            return peer + " closed the connection during the handshake (is tls-creds set there?)";
        }
        if (all.contains("no cipher suites in common") || all.contains("protocol_version")
                || all.contains("No appropriate protocol")) {
            return "no protocol or cipher suite in common with " + peer + " (" + e.getMessage() + ")";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String alertMeaning(String alert) {
        return switch (alert) {
            case "bad_certificate", "certificate_unknown", "unknown_ca" -> "it does not accept this host's certificate";
            case "certificate_required" -> "it wants a certificate and this host has none";
            case "certificate_expired" -> "this host's certificate has expired";
            case "certificate_revoked" -> "this host's certificate is revoked";
            case "access_denied" -> "this host's identity is not allowed";
            case "handshake_failure", "protocol_version", "insufficient_security" -> "no protocol or cipher in common";
            default -> "see its log";
        };
    }

    private static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    private static String firstLine(String all, String start) {
        int i = all.indexOf(start);
        int end = all.indexOf('\n', i);
        String line = all.substring(i, end < 0 ? all.length() : end);
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }
}
