package io.godwit.tls.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CipherWarmupTest {

    @TempDir
    Path pki;

    /** Adding the first tls-creds-x509 object starts the warm-up; its records open to what was sealed. */
    @Test
    void theFirstCredentialsStartTheWarmupWhichSealsAndOpensRecords() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed");
        TestPki p = new TestPki(pki);
        Path ca = p.ca("ca");
        p.leaf(ca, pki.resolve("client"), "client", "/O=Godwit/CN=client", null, TestPki.dayAgo(), TestPki.dayAhead(), false);
        TestPki.trust(ca, pki.resolve("client"));
        new TlsObjects().add("tls-creds-x509,id=c,endpoint=client,dir=" + pki.resolve("client"));
        assertTrue(CipherWarmup.started(), "no warm-up after the first tls-creds-x509");
        CipherWarmup.run(200); // throws if a record does not open to what was sealed
    }
}
