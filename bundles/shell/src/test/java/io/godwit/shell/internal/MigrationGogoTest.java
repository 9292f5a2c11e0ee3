package io.godwit.shell.internal;

import static io.godwit.api.migration.MigrationStatus.ACTIVE;
import static io.godwit.api.migration.MigrationStatus.COMPLETED;
import static io.godwit.api.migration.MigrationStatus.SETUP;
import static io.godwit.shell.internal.FakeMigration.GIB;
import static io.godwit.shell.internal.FakeMigration.at;
import static io.godwit.shell.internal.FakeMigration.ended;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The migration commands through Gogo's real parser: options, URIs, Gogo's own conversions, output. */
class MigrationGogoTest {

    private static ThreadIOImpl threadIo;
    private final FakeVmManager vms = new FakeVmManager();
    private final FakeMigration migration = new FakeMigration(vms);
    private CommandProcessorImpl processor;
    private CommandSession session;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @BeforeAll
    static void startThreadIo() {
        threadIo = new ThreadIOImpl();
        threadIo.start();
    }

    @AfterAll
    static void stopThreadIo() {
        threadIo.stop();
    }

    @BeforeEach
    void registerCommands() {
        processor = new CommandProcessorImpl(threadIo);
        VmCommands vmCommands = new VmCommands(vms);
        vmCommands.migration = migration;
        processor.addCommand("godwit", vmCommands, "vm_create");
        MigrationCommands commands = new MigrationCommands(vms, migration, ms -> {});
        for (String f : List.of("migrate", "migrate_incoming", "migrate_cancel", "migrate_continue",
                "migrate_set_capability", "migrate_set_parameter")) {
            processor.addCommand("godwit", commands, f);
        }
        InfoCommand info = new InfoCommand();
        info.addSubject(new MigrateInfo(vms, migration));
        processor.addCommand("godwit", info, "info");
        processor.addListener(new GodwitScope());
        session = processor.createSession(InputStream.nullInputStream(), new PrintStream(out, true), System.err);
    }

    @AfterEach
    void close() {
        session.close();
    }

    private Object run(String script) throws Exception {
        return session.execute(script);
    }

    private String error(String script) {
        return assertThrows(Exception.class, () -> run(script)).getMessage();
    }

    private String printed() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void detachedMigrateTakesTheOptionAnywhere() throws Exception {
        vms.add("a");
        vms.add("b");
        assertEquals("migrating VM a to tcp:127.0.0.1:4444: follow it with info migrate a, stop it with"
                + " migrate_cancel a", run("migrate -d a tcp:127.0.0.1:4444"));
        run("migrate b unix:/tmp/b.sock --detach");
        assertEquals(List.of("migrate a tcp:127.0.0.1:4444", "migrate b unix:/tmp/b.sock"), migration.calls);
        assertEquals("unknown option '--bogus' for migrate (see help migrate)", error("migrate --bogus a tcp:h:1"));
    }

    @Test
    void blockingMigrateInAScriptPrintsPlainLines() throws Exception {
        vms.add("a");
        migration.play("a", at(SETUP, 0, GIB), at(ACTIVE, 1, GIB), at(ACTIVE, 2, 1L << 20), ended(COMPLETED, null));
        // No terminal here (no console under the test runner): plain lines, no '\r'.
        Object report = run("migrate tcp:127.0.0.1:4444");
        assertTrue(report.toString().startsWith("Migration status: completed"), report.toString());
        assertTrue(printed().startsWith("pass 1: 0% current"), printed());
        assertFalse(printed().contains("\r"), printed());
    }

    @Test
    void theSessionVariableForcesTheProgressBar() throws Exception {
        vms.add("a");
        migration.play("a", at(ACTIVE, 1, GIB / 2), ended(COMPLETED, null));
        run("GODWIT_TTY = true");
        run("migrate tcp:127.0.0.1:4444");
        assertTrue(printed().startsWith("\r[#####.....]  50%  pass 1"), printed());
        assertTrue(printed().endsWith("\n"), printed());
    }

    @Test
    void gogosConversionsOfTrueAndNumbersStillRead() throws Exception {
        vms.add("a");
        assertNull(run("migrate_set_capability events true"));
        assertNull(run("migrate_set_capability a return-path off"));
        assertNull(run("migrate_set_parameter downtime-limit 100"));
        assertNull(run("migrate_set_parameter max-bandwidth 100M"));
        assertEquals(List.of("capability a events true", "capability a return-path false",
                "parameter a downtime-limit 100", "parameter a max-bandwidth 104857600"), migration.calls);
        assertEquals("downtime-limit must be between 0 and 2000000 ms, not -1",
                error("migrate_set_parameter downtime-limit -1"));
    }

    @Test
    void createWithIncomingAndPrealloc() throws Exception {
        assertEquals("created VM b: 256 MiB preallocated, 1 vCPU, synthetic idle, tracker pml, inmigrate\n"
                        + "listening on tcp:127.0.0.1:41234",
                run("vm_create b -m 256 --incoming tcp:127.0.0.1:0 --mem-prealloc"));
        assertTrue(vms.vm("b").spec().prealloc());
        assertTrue(run("info migrate").toString().endsWith("socket address:    tcp:127.0.0.1:41234"));
        assertEquals("listening on unix:/tmp/b.sock", run("migrate_incoming b unix:/tmp/b.sock"));
    }
}
