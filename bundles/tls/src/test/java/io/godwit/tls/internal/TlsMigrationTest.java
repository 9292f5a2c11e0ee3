package io.godwit.tls.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.coordinator.internal.UnixTestTransport;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.transport.tcp.internal.TcpTransport;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's TLS matrix ({@code tests/qtest/migration/tls-tests.c}) as real migrations between two VMs of
 * one host over tcp (and unix) sockets, with certificates made by openssl. A success ends with the
 * sweep oracle clean on the destination; a failure with one line naming the cause, the source running
 * with its memory intact, and the destination untouched: still {@code inmigrate}, still listening.
 */
@Timeout(120)
class TlsMigrationTest {

    @TempDir
    static Path pki;

    private static Path caA;
    private static Path caB;

    private VmManagerImpl vms;
    private Coordinator coordinator;
    private TlsObjects tls;
    private Vm src;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed: the TLS matrix needs it");
        TestPki p = new TestPki(pki);
        caA = p.ca("ca-a");
        caB = p.ca("ca-b");
        Instant from = TestPki.dayAgo();
        Instant to = TestPki.dayAhead();
        String localhost = "IP:127.0.0.1,DNS:localhost";
        // certtool and older openssl write PKCS#1 RSA keys: the server's is one
        p.leaf(caA, dir("server"), "server", "/O=Godwit/CN=server", localhost, from, to, true);
        p.leaf(caA, dir("client"), "client", "/O=Godwit/CN=client", null, from, to, false);
        p.leaf(caA, dir("client-mallory"), "client", "/O=Godwit/CN=mallory", null, from, to, false);
        p.leaf(caB, dir("client-of-b"), "client", "/O=Godwit/CN=client", null, from, to, false);
        p.leaf(caA, dir("client-trusts-b"), "client", "/O=Godwit/CN=client", null, from, to, false);
        p.leaf(caA, dir("client-expired"), "client", "/O=Godwit/CN=client", null,
                from.minus(2, ChronoUnit.DAYS), from.minus(1, ChronoUnit.DAYS), false);
        p.leaf(caA, dir("server-other-host"), "server", "/O=Godwit/CN=other", "IP:10.0.0.1,DNS:other.example", from, to, false);
        p.leaf(caA, dir("server-expired"), "server", "/O=Godwit/CN=server", localhost,
                from.minus(2, ChronoUnit.DAYS), from.minus(1, ChronoUnit.DAYS), false);
        p.leaf(caA, dir("server-future"), "server", "/O=Godwit/CN=server", localhost,
                to, to.plus(1, ChronoUnit.DAYS), false);
        p.leaf(caA, dir("client-revoked"), "client", "/O=Godwit/CN=revoked", null, from, to, false);
        p.leaf(caA, dir("server-crl"), "server", "/O=Godwit/CN=server", localhost, from, to, false);
        p.revoke(caA, dir("client-revoked").resolve("client-cert.pem"), dir("server-crl"));
        for (String d : new String[] {"server", "client", "client-mallory", "client-of-b", "client-expired",
            "server-other-host", "server-expired", "server-future", "client-revoked", "server-crl", "client-anon"}) {
            TestPki.trust(caA, dir(d));
        }
        TestPki.trust(caB, dir("client-trusts-b"));
    }

    private static Path dir(String name) {
        return pki.resolve(name);
    }

    @BeforeEach
    void host() {
        vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(tcp(), Map.of(Transport.SCHEME, "tcp"));
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        tls = new TlsObjects();
        coordinator.setTls(tls);
        src = vms.create(VmSpec.builder("src").memory(32 << 20).vcpus(1).workload("sweep:8M,rate=20000").build());
        vms.create(VmSpec.builder("dst").memory(32 << 20).vcpus(1).workload("sweep:8M,rate=20000").incoming("defer").build());
    }

    @AfterEach
    void stopHost() throws InterruptedException {
        coordinator.deactivate();
        vms.deactivate();
    }

    /** The tcp transport with its defaults (its Config is an annotation: a proxy answers the defaults). */
    static TcpTransport tcp() {
        return new TcpTransport((TcpTransport.Config) Proxy.newProxyInstance(TcpTransport.class.getClassLoader(),
                new Class<?>[] {TcpTransport.Config.class}, (proxy, method, args) -> method.getDefaultValue()));
    }

    private void source(String dirName, String options) {
        tls.add("tls-creds-x509,id=tls-src,endpoint=client,dir=" + dir(dirName) + options);
        coordinator.setParameter("src", MigrationTextParameter.TLS_CREDS, "tls-src");
    }

    private void destination(String dirName, String options) {
        tls.add("tls-creds-x509,id=tls-dst,endpoint=server,dir=" + dir(dirName) + options);
        coordinator.setParameter("dst", MigrationTextParameter.TLS_CREDS, "tls-dst");
    }

    private String listen(String uri) {
        coordinator.incoming("dst", uri);
        return coordinator.info("dst").listenUri();
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 90_000;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    /** Migrates to {@code uri} and checks the destination's guest with the oracle. */
    private void migratesCleanly(String uri) throws InterruptedException {
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src");
        MigrationInfo in = await("dst");
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out.error()));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in.error()));
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        dst.stop(RunState.PAUSED);
        OracleVerdict verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    /**
     * Migrates to {@code uri}, which must fail with one line containing {@code cause}; the source runs on
     * intact, and the destination VM was never touched.
     */
    private String failsWith(String uri, String cause) throws InterruptedException {
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src");
        assertEquals(MigrationStatus.FAILED, out.status());
        String error = out.error();
        assertTrue(error.contains(cause), "error '" + error + "' should name '" + cause + "'");
        assertFalse(error.contains("\n"), "one line: " + error);
        assertEquals(RunState.RUNNING, src.state(), "the source runs on");
        assertEquals(RunState.INMIGRATE, vms.get("dst").orElseThrow().state());
        src.stop(RunState.PAUSED);
        OracleVerdict verdict = src.check();
        assertTrue(verdict.clean(), verdict.toString());
        src.cont();
        return error;
    }

    /** A TLS destination that refused a source is still waiting, unchanged, for the real one. */
    private void destinationStillWaits() {
        MigrationInfo in = coordinator.info("dst");
        assertEquals(MigrationStatus.SETUP, in.status(), String.valueOf(in.error()));
        assertNull(in.error());
    }

    @Test
    void validCertificatesMigrateOverTls13() throws Exception {
        destination("server", "");
        source("client", "");
        migratesCleanly(listen("tcp:127.0.0.1:0"));
        assertTrue(coordinator.tls("src").startsWith("TLSv1.3 TLS_"), coordinator.tls("src"));
        assertTrue(coordinator.tls("src").contains("peer CN=server,O=Godwit"), coordinator.tls("src"));
        assertTrue(coordinator.tls("dst").contains("peer CN=client,O=Godwit"), coordinator.tls("dst"));
    }

    /**
     * Multifd's data channels carry the pages: each makes its own handshake (as QEMU), so no page goes in
     * clear. Every connection the source opens starts with a TLS record (0x16, handshake), the main one
     * and the two data channels alike.
     */
    @Test
    void multifdChannelsAreEncryptedToo() throws Exception {
        java.util.List<Byte> firstBytes = new java.util.concurrent.CopyOnWriteArrayList<>();
        coordinator.addTransport(recordingFirstByte(tcp(), firstBytes), Map.of(Transport.SCHEME, "tcp-rec"));
        destination("server", "");
        source("client", "");
        coordinator.setCapability("src", io.godwit.api.migration.MigrationCapability.MULTIFD, true);
        coordinator.setCapability("dst", io.godwit.api.migration.MigrationCapability.MULTIFD, true);
        String uri = listen("tcp:127.0.0.1:0").replaceFirst("^tcp:", "tcp-rec:");
        migratesCleanly(uri);
        assertEquals(java.util.List.of((byte) 0x16, (byte) 0x16, (byte) 0x16), firstBytes,
                "the first byte of each connection (main + 2 multifd channels)");
        assertEquals(2, coordinator.info("src").multifd().channels());
    }

    /** {@code inner}, recording the first byte the source writes on each connection it opens. */
    private static Transport recordingFirstByte(Transport inner, java.util.List<Byte> firstBytes) {
        return new Transport() {
            @Override
            public java.util.Set<io.godwit.api.transport.TransportCapability> capabilities() {
                return inner.capabilities();
            }

            @Override
            public io.godwit.api.transport.MigrationChannel connectOutgoing(String address) throws java.io.IOException {
                io.godwit.api.transport.MigrationChannel c = inner.connectOutgoing(address);
                return new io.godwit.api.transport.MigrationChannel() {
                    private boolean first = true;

                    @Override
                    public String name() {
                        return c.name();
                    }

                    @Override
                    public void shutdownOutput() throws java.io.IOException {
                        c.shutdownOutput();
                    }

                    @Override
                    public int read(java.nio.ByteBuffer dst) throws java.io.IOException {
                        return c.read(dst);
                    }

                    @Override
                    public int write(java.nio.ByteBuffer src) throws java.io.IOException {
                        return (int) write(new java.nio.ByteBuffer[] {src}, 0, 1);
                    }

                    @Override
                    public long write(java.nio.ByteBuffer[] srcs) throws java.io.IOException {
                        return write(srcs, 0, srcs.length);
                    }

                    @Override
                    public synchronized long write(java.nio.ByteBuffer[] srcs, int offset, int length)
                            throws java.io.IOException {
                        for (int i = offset; first && i < offset + length; i++) {
                            if (srcs[i].hasRemaining()) {
                                firstBytes.add(srcs[i].get(srcs[i].position()));
                                first = false;
                            }
                        }
                        return c.write(srcs, offset, length);
                    }

                    @Override
                    public boolean isOpen() {
                        return c.isOpen();
                    }

                    @Override
                    public void close() throws java.io.IOException {
                        c.close();
                    }
                };
            }

            @Override
            public io.godwit.api.transport.IncomingListener listenIncoming(String address) throws java.io.IOException {
                return inner.listenIncoming(address);
            }
        };
    }

    @Test
    void overUnixTlsHostnameNamesTheDestination() throws Exception {
        destination("server", "");
        source("client", "");
        coordinator.setParameter("src", MigrationTextParameter.TLS_HOSTNAME, "localhost");
        migratesCleanly(listen("unix:" + pki.resolve("mig-" + System.nanoTime() + ".sock")));
    }

    @Test
    void overUnixWithoutTlsHostnameTheMigrateCommandIsRefused() throws Exception {
        destination("server", "");
        source("client", "");
        String uri = listen("unix:" + pki.resolve("mig-" + System.nanoTime() + ".sock"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> coordinator.migrate("src", uri));
        assertTrue(e.getMessage().contains("set tls-hostname"), e.getMessage());
        assertEquals(RunState.RUNNING, src.state());
    }

    @Test
    void theSourceDoesNotTrustTheDestinationsCa() throws Exception {
        destination("server", "");
        source("client-trusts-b", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination's certificate is not signed by a CA in");
        destinationStillWaits();
    }

    @Test
    void theDestinationDoesNotTrustTheClientsCaAndThenTakesTheRealSource() throws Exception {
        destination("server", "");
        source("client-of-b", "");
        String uri = listen("tcp:127.0.0.1:0");
        failsWith(uri, "the destination refused this host (TLS alert");
        destinationStillWaits();
        tls.delete("tls-src");
        source("client", "");
        migratesCleanly(uri);
    }

    @Test
    void aHostnameMismatchIsRefusedByTheSource() throws Exception {
        destination("server-other-host", "");
        source("client", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination's certificate does not carry the name");
        destinationStillWaits();
    }

    @Test
    void tlsHostnameOverridesTheUriHost() throws Exception {
        destination("server-other-host", "");
        source("client", "");
        coordinator.setParameter("src", MigrationTextParameter.TLS_HOSTNAME, "other.example");
        migratesCleanly(listen("tcp:127.0.0.1:0"));
    }

    @Test
    void anExpiredServerCertificateIsRefused() throws Exception {
        destination("server-expired", "");
        source("client", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination's certificate has expired");
    }

    @Test
    void aNotYetValidServerCertificateIsRefused() throws Exception {
        destination("server-future", "");
        source("client", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination's certificate is not yet valid");
    }

    @Test
    void anExpiredClientCertificateIsRefused() throws Exception {
        destination("server", "");
        source("client-expired", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination refused this host (TLS alert");
        destinationStillWaits();
    }

    @Test
    void aRevokedClientCertificateIsRefused() throws Exception {
        destination("server-crl", "");
        source("client-revoked", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination refused this host (TLS alert");
        destinationStillWaits();
    }

    @Test
    void aClientWithoutCertificateIsRefusedWithVerifyPeerOn() throws Exception {
        destination("server", "");
        source("client-anon", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination refused this host (TLS alert");
        destinationStillWaits();
    }

    @Test
    void aClientWithoutCertificateIsTakenWithVerifyPeerOff() throws Exception {
        destination("server", ",verify-peer=off");
        source("client-anon", "");
        migratesCleanly(listen("tcp:127.0.0.1:0"));
        assertFalse(coordinator.tls("dst").contains("peer"), coordinator.tls("dst"));
    }

    @Test
    void anAuthzIdentityThatIsRefused() throws Exception {
        destination("server", "");
        tls.add("authz-simple,id=auth0,identity=CN=client,,O=Godwit");
        coordinator.setParameter("dst", MigrationTextParameter.TLS_AUTHZ, "auth0");
        source("client-mallory", "");
        failsWith(listen("tcp:127.0.0.1:0"), "identity 'CN=mallory,O=Godwit' is refused by tls-authz 'auth0'");
        destinationStillWaits();
    }

    @Test
    void anAuthzIdentityThatIsAllowed() throws Exception {
        destination("server", "");
        tls.add("authz-simple,id=auth0,identity=CN=client,, O=Godwit");
        coordinator.setParameter("dst", MigrationTextParameter.TLS_AUTHZ, "auth0");
        source("client", "");
        migratesCleanly(listen("tcp:127.0.0.1:0"));
    }

    @Test
    void anAuthzListWithAGlobRule() throws Exception {
        destination("server", "");
        tls.add("authz-list,id=auth1,policy=deny,rules.0.match=CN=mallory*,rules.0.policy=deny,rules.0.format=glob,"
                + "rules.1.match=CN=*,,O=Godwit,rules.1.policy=allow,rules.1.format=glob");
        coordinator.setParameter("dst", MigrationTextParameter.TLS_AUTHZ, "auth1");
        source("client", "");
        migratesCleanly(listen("tcp:127.0.0.1:0"));
    }

    @Test
    void tlsOnTheSourceOnly() throws Exception {
        source("client", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the destination closed the connection during the handshake");
        // a plain destination reads the ClientHello as a stream and refuses it; its VM never ran
        assertEquals(MigrationStatus.FAILED, await("dst").status());
    }

    @Test
    void aPlainSourceToATlsDestinationIsToldWhy() throws Exception {
        destination("server", "");
        failsWith(listen("tcp:127.0.0.1:0"), "the source sent plain text, not TLS");
        destinationStillWaits();
    }

    @Test
    void objectsNeverShowKeysAndBadFilesFailObjectAdd() throws Exception {
        tls.add("tls-creds-x509,id=tls0,dir=" + dir("server") + ",endpoint=server");
        String shown = tls.objects().toString();
        assertTrue(shown.contains("CN=server,O=Godwit"), shown);
        assertFalse(shown.contains("PRIVATE"), shown);
        String key = Files.readString(dir("server").resolve("server-key.pem"));
        String body = key.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
        assertFalse(shown.contains(body), shown);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tls.add("tls-creds-x509,id=tls1,dir=" + dir("client-anon") + ",endpoint=server"));
        assertTrue(e.getMessage().contains("server-cert.pem"), e.getMessage());
        tls.delete("tls0");
        assertTrue(tls.objects().isEmpty());
    }
}
