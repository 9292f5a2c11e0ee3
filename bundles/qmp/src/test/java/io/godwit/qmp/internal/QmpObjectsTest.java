package io.godwit.qmp.internal;

import static io.godwit.qmp.internal.QmpProtocolTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.tls.TlsObject;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.tls.internal.TestPki;
import io.godwit.tls.internal.TlsObjects;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QMP's object-add and object-del (qapi/qom.json) over the real TLS objects of the tls bundle, with
 * certificates made by openssl: QEMU's flat members and its older {@code props}, JSON booleans and
 * arrays, QEMU's errors and wording, commas in values that stay in their value, key material never in a
 * reply, and a clear error while the tls bundle is away. The objects are the VM's own, as a QEMU
 * process's are: two VMs may each have libvirt's id, and a VM's objects end with it.
 */
class QmpObjectsTest {

    @TempDir
    static Path pki;

    private static Path server;
    private static Path mismatched;

    private final VmManagerImpl vms = new VmManagerImpl();
    private final QmpService qmp;
    private final TlsObjects tls = new TlsObjects();
    private final Path socket;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestPki.opensslPresent(), "openssl is not installed: the TLS objects need it");
        TestPki p = new TestPki(pki);
        Path ca = p.ca("ca");
        server = QmpTlsMigrationTest.folder(p, ca, "server", "server", "DNS:localhost");
        // a client folder whose key belongs to another certificate
        Path other = QmpTlsMigrationTest.folder(p, ca, "client", "other", null);
        mismatched = QmpTlsMigrationTest.folder(p, ca, "client", "client", null);
        Files.copy(other.resolve("client-key.pem"), mismatched.resolve("client-key.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    QmpObjectsTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        qmp = new QmpService(vms, new QmpVersion(0, 1, 0, "Godwit test"));
        qmp.tls = tls;
        socket = Files.createTempDirectory("godwit-qmp-obj").resolve("g.qmp");
        vms.create(VmSpec.builder("g").memory(16 << 20).workload("sweep:4M,rate=2000").build());
        qmp.add("g", "unix:" + socket);
    }

    @AfterEach
    void close() throws Exception {
        qmp.deactivate();
        vms.deactivate();
    }

    /** VM g's object {@code id}, as the service holds it. */
    private TlsObject object(String id) {
        return hostObject("qmp1-g-" + id);
    }

    private TlsObject hostObject(String id) {
        return tls.objects().stream().filter(o -> o.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no object " + id + " in " + tls.objects()));
    }

    @Test
    void objectAddTakesQemusFlatMembersAndTheOlderPropsAndObjectDelRemoves() throws Exception {
        try (QmpClient c = QmpClient.ready(socket)) {
            JsonNode commands = c.ok("query-commands", null);
            assertTrue(commands.toString().contains("{\"name\":\"object-add\"}"), commands.toString());
            assertTrue(commands.toString().contains("{\"name\":\"object-del\"}"), commands.toString());

            // what libvirt sends for a TLS migration's destination
            assertEquals("{}", c.ok("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"objlibvirt_migrate_tls0\","
                    + " \"dir\": \"" + server + "\", \"endpoint\": \"server\", \"verify-peer\": false}").toString());
            Map<String, String> creds = object("objlibvirt_migrate_tls0").properties();
            assertEquals("server", creds.get("endpoint"), creds.toString());
            assertEquals("off", creds.get("verify-peer"), creds.toString());
            assertEquals(server.toString(), creds.get("dir"), creds.toString());
            assertEquals("CN=server,O=Godwit", creds.get("certificate").split(", valid")[0], creds.toString());

            c.ok("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"auth0\","
                    + " \"props\": {\"identity\": \"CN=client,O=Godwit\"}}"); // QEMU before 6.0
            assertEquals("authz-simple", object("auth0").type());
            assertEquals("CN=client,O=Godwit", object("auth0").properties().get("identity"));

            c.ok("object-add", "{\"qom-type\": \"authz-list\", \"id\": \"auth1\", \"policy\": \"allow\", \"rules\": ["
                    + "{\"match\": \"CN=mallory,O=Godwit\", \"policy\": \"deny\"},"
                    + "{\"match\": \"CN=*,O=Evil\", \"policy\": \"deny\", \"format\": \"glob\"}]}");
            assertEquals(Map.of("policy", "allow", "rule 0", "deny CN=mallory,O=Godwit", "rule 1", "deny glob CN=*,O=Evil"),
                    object("auth1").properties());

            c.ok("object-del", "{\"id\": \"auth0\"}");
            c.ok("object-del", "{\"id\": \"objlibvirt_migrate_tls0\"}");
            assertEquals(List.of("qmp1-g-auth1"), tls.objects().stream().map(TlsObject::id).toList());
        }
    }

    @Test
    void errorsAreQemusAndARefusedObjectAddAddsNothing() throws Exception {
        try (QmpClient c = QmpClient.ready(socket)) {
            c.ok("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"auth0\", \"identity\": \"CN=a\"}");
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"auth0\", \"identity\": \"CN=b\"}"),
                    "GenericError", "attempt to add duplicate property 'auth0' to object (type 'container')");
            assertEquals("CN=a", object("auth0").properties().get("identity"), "the first object stays");
            assertError(c.execute("object-del", "{\"id\": \"nothing\"}"), "GenericError", "object 'nothing' not found");
            assertError(c.execute("object-del"), "GenericError", "Parameter 'id' is missing");

            assertError(c.execute("object-add", "{\"qom-type\": \"secret\", \"id\": \"s0\", \"data\": \"letmein\"}"),
                    "GenericError", "invalid object type: secret (Godwit's objects are tls-creds-x509, authz-simple"
                            + " and authz-list)");
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"a1\"}"),
                    "GenericError", "Parameter 'identity' is missing");
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"1a\", \"identity\": \"CN=a\"}"),
                    "GenericError", "Parameter 'id' expects an identifier");
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t1\", \"dir\": \"" + server
                    + "\", \"endpoint\": \"server\", \"verify-peer\": \"on\"}"),
                    "GenericError", "Invalid parameter type for 'verify-peer', expected: boolean");
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t1\", \"dir\": \"" + server
                    + "\", \"endpoint\": \"both\"}"), "GenericError", "Parameter 'endpoint' does not accept value 'both'");
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t1\", \"dir\": \"" + server
                    + "\", \"endpoint\": \"server\", \"sndbuf\": 4}"), "GenericError", "Parameter 'sndbuf' is unexpected");
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t1\", \"dir\": \"" + server
                    + "\", \"props\": {\"endpoint\": \"server\"}}"), "GenericError", "Parameter 'dir' is unexpected");
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-list\", \"id\": \"l1\", \"rules\": ["
                    + "{\"match\": \"CN=a\", \"policy\": \"maybe\"}]}"),
                    "GenericError", "Parameter 'rules[0].policy' does not accept value 'maybe'");
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-list\", \"id\": \"l1\", \"rules\": [{\"match\": \"CN=a\"}]}"),
                    "GenericError", "Parameter 'rules[0].policy' is missing");
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t1\", \"dir\": \"/nowhere\","
                    + " \"endpoint\": \"server\"}"), "GenericError", "tls-creds-x509 't1': dir /nowhere is not a folder");
            assertEquals(List.of("qmp1-g-auth0"), tls.objects().stream().map(TlsObject::id).toList(), "nothing else was added");
        }
    }

    private List<String> ids() {
        return tls.objects().stream().map(TlsObject::id).toList();
    }

    /** libvirt names every domain's credentials objlibvirt_migrate_tls0: each VM has its own. */
    @Test
    void eachVmHasItsOwnObjectsBesideTheHostsAndTheyEndWithTheVm() throws Exception {
        vms.create(VmSpec.builder("h").memory(16 << 20).workload("sweep:4M,rate=2000").build());
        Path hSocket = socket.resolveSibling("h.qmp");
        qmp.add("h", "unix:" + hSocket);
        String add = "{\"qom-type\": \"authz-simple\", \"id\": \"objlibvirt_migrate_tls0\", \"identity\": \"CN=%s\"}";
        try (QmpClient g = QmpClient.ready(socket); QmpClient h = QmpClient.ready(hSocket)) {
            g.ok("object-add", add.formatted("g"));
            h.ok("object-add", add.formatted("h"));
            tls.add("authz-simple,id=objlibvirt_migrate_tls0,identity=CN=shell"); // the shell's, host-wide
            assertEquals(List.of("qmp1-g-objlibvirt_migrate_tls0", "qmp1-h-objlibvirt_migrate_tls0", "objlibvirt_migrate_tls0"), ids());
            assertError(g.execute("object-add", add.formatted("again")), "GenericError",
                    "attempt to add duplicate property 'objlibvirt_migrate_tls0' to object (type 'container')");

            h.ok("object-del", "{\"id\": \"objlibvirt_migrate_tls0\"}");
            assertError(h.execute("object-del", "{\"id\": \"objlibvirt_migrate_tls0\"}"), "GenericError",
                    "object 'objlibvirt_migrate_tls0' not found"); // g's and the host's are not h's
            assertEquals("CN=g", object("objlibvirt_migrate_tls0").properties().get("identity"));
            assertEquals("CN=shell", hostObject("objlibvirt_migrate_tls0").properties().get("identity"));

            h.ok("object-add", add.formatted("h"));
            assertError(h.execute("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"a" + "b".repeat(57)
                    + "\", \"identity\": \"CN=a\"}"), "GenericError", "Parameter 'id' is too long: VM h's objects are"
                    + " kept as qmp1-h-a" + "b".repeat(57) + ", at most 64 characters (see docs/qmp.md)");
        }
        vms.destroy("h");
        assertEquals(List.of("qmp1-g-objlibvirt_migrate_tls0", "objlibvirt_migrate_tls0"), ids(),
                "h's objects went with h, as a QEMU process's do");
    }

    /** A comma in a value is the value's: it cannot set another property (here: the list's allow-all policy). */
    @Test
    void aCommaInAValueStaysInTheValue() throws Exception {
        try (QmpClient c = QmpClient.ready(socket)) {
            c.ok("object-add", "{\"qom-type\": \"authz-list\", \"id\": \"l0\", \"rules\": ["
                    + "{\"match\": \"CN=x,policy=allow\", \"policy\": \"deny\"}]}");
            assertEquals(Map.of("policy", "deny", "rule 0", "deny CN=x,policy=allow"), object("l0").properties());
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t0\","
                    + " \"dir\": \"/nowhere,dir=" + server + "\", \"endpoint\": \"server\"}"),
                    "GenericError", "tls-creds-x509 't0': dir /nowhere,dir=" + server + " is not a folder");
        }
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsOneLineWithoutTheKey() throws Exception {
        String key = Files.readString(mismatched.resolve("client-key.pem"));
        try (QmpClient c = QmpClient.ready(socket)) {
            JsonNode r = c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t0\", \"dir\": \""
                    + mismatched + "\", \"endpoint\": \"client\"}");
            assertError(r, "GenericError", "tls-creds-x509 't0': " + mismatched.resolve("client-key.pem")
                    + " is not the key of " + mismatched.resolve("client-cert.pem"));
            String desc = r.get("error").get("desc").asText();
            key.lines().filter(l -> !l.startsWith("-----")).forEach(line ->
                    assertFalse(desc.contains(line) || r.toString().contains(line), "key material in " + r));
            assertError(c.execute("object-add", "{\"qom-type\": \"tls-creds-x509\", \"id\": \"t0\", \"dir\": \""
                            + mismatched + "\", \"endpoint\": \"client\", \"passwordid\": \"sec0\"}"), "GenericError",
                    "Parameter 'passwordid' is not supported: the key file must be unencrypted, as docs/tls.md makes it");
            assertTrue(tls.objects().isEmpty(), tls.objects().toString());
        }
    }

    @Test
    void withoutTheTlsBundleObjectAddSaysSo() throws Exception {
        qmp.tls = null;
        String unavailable = "the TLS service is not running (is the godwit-tls bundle started?): it keeps the objects"
                + " tls-creds-x509, authz-simple and authz-list";
        try (QmpClient c = QmpClient.ready(socket)) {
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"a0\", \"identity\": \"CN=a\"}"),
                    "GenericError", unavailable);
            assertError(c.execute("object-del", "{\"id\": \"a0\"}"), "GenericError", unavailable);
            assertError(c.execute("object-add", "{\"qom-type\": \"authz-simple\", \"id\": \"a0\"}"),
                    "GenericError", "Parameter 'identity' is missing"); // the arguments are checked first
            assertEquals("g", c.ok("query-name", null).get("name").asText(), "the session goes on");
        }
        assertTrue(tls.objects().isEmpty());
    }
}
