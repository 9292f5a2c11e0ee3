package io.godwit.shell.internal;

import static io.godwit.api.migration.MigrationStatus.ACTIVE;
import static io.godwit.api.migration.MigrationStatus.CANCELLED;
import static io.godwit.api.migration.MigrationStatus.CANCELLING;
import static io.godwit.api.migration.MigrationStatus.COMPLETED;
import static io.godwit.api.migration.MigrationStatus.DEVICE;
import static io.godwit.api.migration.MigrationStatus.FAILED;
import static io.godwit.api.migration.MigrationStatus.PRE_SWITCHOVER;
import static io.godwit.api.migration.MigrationStatus.SETUP;
import static io.godwit.shell.internal.FakeMigration.GIB;
import static io.godwit.shell.internal.FakeMigration.at;
import static io.godwit.shell.internal.FakeMigration.ended;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.vm.RunState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MigrationCommandsTest {

    private final FakeVmManager vms = new FakeVmManager();
    private final FakeMigration migration = new FakeMigration(vms);
    private final AtomicInteger sleeps = new AtomicInteger();
    /** Sleep number this many (1-based) is interrupted, as Ctrl-C in the console; 0: never. */
    private int interruptAt;
    private final MigrationCommands commands = new MigrationCommands(vms, migration, ms -> {
        if (sleeps.incrementAndGet() == interruptAt) {
            throw new InterruptedException();
        }
    });
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    private Tty plain() {
        return new Tty(out, false, 80);
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    private static String error(Executable command) {
        return assertThrows(RuntimeException.class, command).getMessage();
    }

    // --- [NAME] before the other arguments

    @Test
    void migrateTakesTheOnlyVmOrTheNamedOne() {
        vms.add("a");
        migration.play("a", ended(COMPLETED, null));
        commands.migrate(plain(), true, "tcp:h:1");
        vms.add("b");
        migration.play("b", ended(COMPLETED, null));
        commands.migrate(plain(), true, "b", "tcp:h:2");
        assertEquals(List.of("migrate a tcp:h:1", "migrate b tcp:h:2"), migration.calls);
    }

    @Test
    void migrateArgumentErrorsAreOneLine() {
        assertEquals("missing arguments for migrate (usage: migrate [-d] [NAME] URI)",
                error(() -> commands.migrate(plain(), false)));
        assertEquals("no VM on this host: create one with vm_create",
                error(() -> commands.migrate(plain(), false, "tcp:h:1")));
        vms.add("a");
        vms.add("b");
        assertEquals("2 VMs on this host (a, b): name one, e.g. migrate a",
                error(() -> commands.migrate(plain(), false, "tcp:h:1")));
        assertEquals("no VM named 'c' (VMs: a, b)", error(() -> commands.migrate(plain(), false, "c", "tcp:h:1")));
        assertEquals("too many arguments for migrate: a tcp:h:1 x (usage: migrate [-d] [NAME] URI)",
                error(() -> commands.migrate(plain(), false, "a", "tcp:h:1", "x")));
        assertEquals("unknown option '--fast' for migrate (see help migrate)",
                error(() -> commands.migrate(plain(), false, "a", "--fast", "tcp:h:1")));
        vms.destroy("b");
        assertEquals("migrate needs a URI after the VM name, e.g. migrate a tcp:HOST:PORT (usage: "
                + "migrate [-d] [NAME] URI)", error(() -> commands.migrate(plain(), false, "a")));
        assertTrue(migration.calls.isEmpty());
    }

    @Test
    void postcopyCommandsReachTheServiceAndItsRefusalIsOneLine() {
        vms.add("a");
        assertEquals("postcopy-ram is not on for VM 'a'", error(() -> commands.migrate_start_postcopy()));
        commands.migrate_set_capability("postcopy-ram", "on");
        commands.migrate_start_postcopy("a");
        migration.play("a", ended(COMPLETED, null));
        commands.migrate_pause();
        commands.migrate_recover("unix:/run/r.sock");
        commands.migrate(plain(), true, "-r", "a", "unix:/run/r.sock");
        assertEquals(List.of("postcopy a", "pause a", "recover a unix:/run/r.sock", "resume a unix:/run/r.sock"),
                migration.calls.stream().filter(c -> !c.startsWith("capability")).toList());
        assertEquals("missing arguments for migrate_recover (usage: migrate_recover [NAME] URI)",
                error(() -> commands.migrate_recover()));
    }

    @Test
    void stallActionTakesItsNamesAndSaysWhichAreKnown() {
        vms.add("a");
        commands.migrate_set_parameter("stall-action", "postcopy");
        assertEquals(2, migration.parameter("a", io.godwit.api.migration.MigrationParameter.STALL_ACTION));
        assertEquals("postcopy", MigrationSettings.format(io.godwit.api.migration.MigrationParameter.STALL_ACTION, 2));
        assertEquals("invalid stall-action 'later': use one of none, throttle, postcopy, cancel (postcopy is"
                + " recommended)", error(() -> commands.migrate_set_parameter("stall-action", "later")));
    }

    @Test
    void theServicesRefusalKeepsItsWholeMessage() {
        vms.add("a");
        migration.refusal = new IllegalStateException("cannot listen on tcp:h:1: Address already in use",
                new java.io.IOException("Address already in use"));
        RuntimeException e = assertThrows(IllegalStateException.class, () -> commands.migrate(plain(), true, "tcp:h:1"));
        assertEquals("cannot listen on tcp:h:1: Address already in use", e.getMessage());
        assertNull(e.getCause()); // the shells print the root cause's message
    }

    @Test
    void continueTellsANameFromAState() {
        vms.add("a");
        migration.play("a", at(PRE_SWITCHOVER, 3, 0));
        commands.migrate_continue();
        commands.migrate_continue("pre-switchover");
        commands.migrate_continue("a");
        commands.migrate_continue("a", "pre-switchover");
        assertEquals(List.of("continue a", "continue a", "continue a", "continue a"), migration.calls);
        assertEquals("migrate_continue leaves pre-switchover only, not 'active'",
                error(() -> commands.migrate_continue("active")));
        migration.play("a", at(ACTIVE, 1, GIB));
        assertEquals("the migration of VM 'a' is not in pre-switchover", error(() -> commands.migrate_continue()));
    }

    // --- capabilities and parameters

    @Test
    void setCapabilityTakesOnOffAndKnowsTheNames() {
        vms.add("a");
        commands.migrate_set_capability("events", "on");
        commands.migrate_set_capability("a", "return-path", "off");
        commands.migrate_set_capability("auto-converge", "true"); // what Gogo makes of a bare true
        assertEquals(List.of("capability a events true", "capability a return-path false",
                "capability a auto-converge true"), migration.calls);
        assertEquals("unknown migration capability 'compress': known are events, return-path, validate-uuid, "
                + "pause-before-switchover, verify-ram, auto-converge, copy-storage, postcopy-ram, mapped-ram, xbzrle, multifd",
                error(() -> commands.migrate_set_capability("compress", "on")));
        assertEquals("a capability is on or off, not 'maybe'",
                error(() -> commands.migrate_set_capability("events", "maybe")));
        assertEquals("missing arguments for migrate_set_capability (usage: migrate_set_capability [NAME] CAPABILITY"
                + " on|off)", error(() -> commands.migrate_set_capability("events")));
    }

    @Test
    void setParameterReadsUnitsAsQemuDoes() {
        vms.add("a");
        commands.migrate_set_parameter("downtime-limit", "100");
        commands.migrate_set_parameter("a", "max-bandwidth", "100M");
        commands.migrate_set_parameter("max-bandwidth", "100"); // HMP: a bare number is MiB/s
        commands.migrate_set_parameter("max-bandwidth", "1000000B");
        commands.migrate_set_parameter("max-bandwidth", "1.5G");
        commands.migrate_set_parameter("max-bandwidth", "0");
        commands.migrate_set_parameter("cpu-throttle-initial", "30");
        assertEquals(List.of("parameter a downtime-limit 100", "parameter a max-bandwidth 104857600",
                "parameter a max-bandwidth 104857600", "parameter a max-bandwidth 1000000",
                "parameter a max-bandwidth 1610612736", "parameter a max-bandwidth 0",
                "parameter a cpu-throttle-initial 30"), migration.calls);
    }

    @Test
    void setParameterErrorsNameTheParameterAndItsUnit() {
        vms.add("a");
        assertEquals("unknown migration parameter 'downtime': known are downtime-limit, max-bandwidth, max-postcopy-bandwidth, "
                + "cpu-throttle-initial, cpu-throttle-increment, max-cpu-throttle, stall-action, stall-passes, stall-seconds, "
                + "xbzrle-cache-size, multifd-channels, multifd-compression, multifd-zlib-level, multifd-zstd-level, "
                + "tls-creds, tls-hostname, tls-authz",
                error(() -> commands.migrate_set_parameter("downtime", "1")));
        assertEquals("invalid downtime-limit 'fast': use a whole number of milliseconds",
                error(() -> commands.migrate_set_parameter("downtime-limit", "fast")));
        assertEquals("downtime-limit must be between 0 and 2000000 ms, not -1",
                error(() -> commands.migrate_set_parameter("downtime-limit", "-1")));
        assertEquals("cpu-throttle-initial must be between 1 and 99 %, not 100",
                error(() -> commands.migrate_set_parameter("cpu-throttle-initial", "100")));
        assertEquals("invalid max-bandwidth '12X': use bytes per second with K, M, G or T, e.g. 100M "
                + "(a bare number is MiB/s; 0 means unlimited)",
                error(() -> commands.migrate_set_parameter("max-bandwidth", "12X")));
        assertTrue(migration.calls.isEmpty());
    }

    @Test
    void tlsParametersTakeTextAndEmptyUnsets() {
        vms.add("a");
        commands.migrate_set_parameter("tls-creds", "tls0");
        commands.migrate_set_parameter("a", "tls-hostname", "dst.example.com");
        commands.migrate_set_parameter("tls-creds", "");
        assertEquals(List.of("parameter a tls-creds tls0", "parameter a tls-hostname dst.example.com",
                "parameter a tls-creds "), migration.calls);
        assertEquals("", migration.parameter("a", io.godwit.api.migration.MigrationTextParameter.TLS_CREDS));
    }

    @Test
    void theHelpListsMatchTheApi() {
        assertEquals(MigrationSettings.names(MigrationCapability.values()), MigrationSettings.CAPABILITIES);
        assertEquals(MigrationSettings.names(MigrationParameter.values()) + ", "
                + MigrationSettings.names(io.godwit.api.migration.MigrationTextParameter.values()), MigrationSettings.PARAMETERS);
    }

    // --- migrate: detached, blocking, and how it ends

    @Test
    void detachReturnsAtOnce() {
        vms.add("a");
        migration.play("a", at(SETUP, 0, GIB));
        assertEquals("migrating VM a to tcp:h:1: follow it with info migrate a, stop it with migrate_cancel a",
                commands.migrate(plain(), true, "tcp:h:1"));
        assertEquals(0, sleeps.get());
        assertEquals("", printed());
    }

    @Test
    void blockingMigratePrintsOneLinePerPassThenTheStatistics() {
        vms.add("a");
        migration.play("a", at(SETUP, 0, GIB), at(ACTIVE, 1, GIB), at(ACTIVE, 1, GIB / 2), at(ACTIVE, 2, 64L << 20),
                at(ACTIVE, 3, 4L << 20), at(DEVICE, 3, 0), ended(COMPLETED, null));
        String report = commands.migrate(plain(), false, "tcp:h:1");
        assertEquals(String.join("\n",
                        "pass 1: 0% current, 0 B sent, 1.0 GiB remaining, 954 MiB/s, expected downtime 120 ms",
                        "pass 2: 93% current, 1.0 GiB sent, 64 MiB remaining, 954 MiB/s, expected downtime 120 ms",
                        "pass 3: 99% current, 1.1 GiB sent, 4.0 MiB remaining, 954 MiB/s, expected downtime 120 ms",
                        "status: device: switching over",
                        ""),
                printed());
        assertFalse(printed().contains("\r"));
        assertTrue(report.startsWith("Migration status: completed\ntotal time:        2345 ms\n"), report);
        assertEquals(6, sleeps.get());
    }

    @Test
    void migrateWithReportWritesThePageWhenTheMigrationEnds(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        vms.add("a");
        java.nio.file.Path file = dir.resolve("m.html");
        migration.history = new io.godwit.api.migration.MigrationHistory(List.of(new io.godwit.api.migration.MigrationPass(
                1, 0, 100, 64L << 20, 40L << 20, 300L << 20, 10, 300, 0, 1L << 20)), 20, 1 << 20, false);
        migration.play("a", at(ACTIVE, 1, GIB), ended(COMPLETED, null));
        String report = commands.migrate(plain(), false, "a", "--report", file.toString(), "tcp:h:1");
        assertTrue(report.startsWith("Migration status: completed") && report.endsWith("report: " + file + " (1 passes)"),
                report);
        String page = java.nio.file.Files.readString(file);
        assertTrue(page.contains("<svg") && page.contains("pass"), page.substring(0, Math.min(200, page.length())));

        // a failed migration writes its page too, before the error
        java.nio.file.Path failed = dir.resolve("f.html");
        migration.play("a", at(ACTIVE, 1, GIB), ended(FAILED, "the destination went away"));
        assertEquals("migration failed: the destination went away",
                error(() -> commands.migrate(plain(), false, "--report", failed.toString(), "tcp:h:1")));
        assertTrue(printed().contains("report: " + failed + " (1 passes)"), printed());
        assertTrue(java.nio.file.Files.exists(failed));
    }

    @Test
    void migrateReportNeedsAFileAndTheEnd() {
        vms.add("a");
        assertEquals("migrate --report needs a FILE, e.g. migrate --report migration.html",
                error(() -> commands.migrate(plain(), false, "tcp:h:1", "--report")));
        assertTrue(error(() -> commands.migrate(plain(), true, "--report", "m.html", "tcp:h:1"))
                .startsWith("migrate -d returns before the migration ends, so it cannot write --report"));
        assertEquals(List.of(), migration.calls, "nothing started");
    }

    @Test
    void aLongPassRepeatsItsLineEveryTenSeconds() {
        vms.add("a");
        MigrationInfo[] script = new MigrationInfo[MigrationWatch.PLAIN_EVERY_POLLS + 2];
        java.util.Arrays.fill(script, at(ACTIVE, 1, GIB / 2));
        script[script.length - 1] = ended(COMPLETED, null);
        migration.play("a", script);
        commands.migrate(plain(), false, "tcp:h:1");
        String line = "pass 1: 50% current, 512 MiB sent, 512 MiB remaining, 954 MiB/s, expected downtime 120 ms\n";
        assertEquals(line + line, printed());
    }

    @Test
    void aFailedMigrationPrintsTheStatisticsAndFails() {
        vms.add("a");
        migration.play("a", at(SETUP, 0, GIB), at(ACTIVE, 1, GIB), ended(FAILED, "Connection reset by peer"));
        assertEquals("migration failed: Connection reset by peer",
                assertThrows(IllegalStateException.class, () -> commands.migrate(plain(), false, "tcp:h:1"))
                        .getMessage());
        assertTrue(printed().contains("Migration status: failed\n"), printed());
        assertTrue(printed().contains("\nerror:             Connection reset by peer\n"), printed());
    }

    @Test
    void aMigrationCancelledElsewhereFails() {
        vms.add("a");
        migration.play("a", at(ACTIVE, 1, GIB), at(CANCELLING, 1, GIB / 2), ended(CANCELLED, null));
        assertEquals("migration cancelled",
                assertThrows(IllegalStateException.class, () -> commands.migrate(plain(), false, "tcp:h:1"))
                        .getMessage());
        assertTrue(printed().contains("status: cancelling\n"), printed());
        assertTrue(printed().contains("Migration status: cancelled\n"), printed());
    }

    @Test
    void aMigrationThatFailsAtOnceFailsAtOnce() {
        vms.add("a");
        migration.play("a", ended(FAILED, "connect tcp:h:1: Connection refused"));
        assertEquals("migration failed: connect tcp:h:1: Connection refused",
                error(() -> commands.migrate(plain(), false, "tcp:h:1")));
        assertEquals(0, sleeps.get());
    }

    @Test
    void onATerminalOneLineIsRedrawn() {
        vms.add("a");
        migration.play("a", at(SETUP, 0, GIB), at(ACTIVE, 1, GIB / 2), at(PRE_SWITCHOVER, 2, 0),
                ended(COMPLETED, null));
        commands.migrate(new Tty(out, true, 200), false, "tcp:h:1");
        String[] draws = printed().split("\r", -1);
        assertEquals("", draws[0]);
        assertEquals("[..........]   0%  setup", draws[1]);
        assertEquals("[#####.....]  50%  pass 1  512 MiB sent  512 MiB remaining  954 MiB/s  expected downtime "
                + "120 ms", draws[2]);
        assertEquals("[##########] 100%  pre-switchover: waiting for migrate_continue a  pass 2  1.1 GiB sent  "
                + "0 B remaining  954 MiB/s", draws[3]);
        String last = "[##########] 100%  completed  pass 3  1.1 GiB sent  0 B remaining  420 MiB/s";
        // Spaces wipe the rest of the longer line before, then the line ends.
        assertEquals(last + " ".repeat(draws[3].length() - last.length()) + "\n", draws[4]);
    }

    @Test
    void theRedrawnLineFitsTheTerminal() {
        vms.add("a");
        migration.play("a", at(ACTIVE, 12, 300L << 20), ended(COMPLETED, null));
        commands.migrate(new Tty(out, true, 72), false, "tcp:h:1");
        for (String draw : printed().split("\r")) {
            assertTrue(draw.strip().length() < 72, draw);
        }
        assertTrue(printed().contains("\r[#######...]  70%  pass 12  300 MiB remaining  expected downtime 120 ms"),
                printed());
    }

    /**
     * Ctrl-C: the console stops waiting at once (Gogo cancels the job), so the command cancels the
     * migration and ends without waiting for the outcome or printing the statistics.
     */
    @Test
    void ctrlCCancelsTheMigration() {
        vms.add("a");
        interruptAt = 2;
        migration.play("a", at(SETUP, 0, GIB), at(ACTIVE, 1, GIB)).onCancel("a", at(CANCELLING, 1, GIB));
        assertEquals("interrupted: cancelling the migration of VM a, now cancelling; info migrate a shows how it ends",
                error(() -> commands.migrate(plain(), false, "tcp:h:1")));
        assertEquals(List.of("migrate a tcp:h:1", "cancel a"), migration.calls);
        assertEquals("pass 1: 0% current, 0 B sent, 1.0 GiB remaining, 954 MiB/s, expected downtime 120 ms\n"
                + "interrupted: cancelling the migration of VM a\n", printed());
        assertEquals(2, sleeps.get());
    }

    @Test
    void ctrlCPastThePointOfNoReturnSaysSo() {
        vms.add("a");
        interruptAt = 1;
        migration.play("a", at(DEVICE, 3, 0));
        assertEquals("interrupted: cancelling the migration of VM a, now device; info migrate a shows how it ends",
                error(() -> commands.migrate(plain(), false, "tcp:h:1")));
        assertEquals(List.of("migrate a tcp:h:1", "cancel a"), migration.calls);
    }

    @Test
    void aCancelThatEndsTheMigrationAtOnceReportsTheEnd() {
        vms.add("a");
        interruptAt = 1;
        migration.play("a", at(ACTIVE, 1, GIB)).onCancel("a", ended(CANCELLED, null));
        assertEquals("migration cancelled", error(() -> commands.migrate(plain(), false, "tcp:h:1")));
        assertTrue(printed().contains("Migration status: cancelled"), printed());
    }

    /** The monitor client went away: writes fail, and the migration is cancelled as by Ctrl-C. */
    @Test
    void aLostOutputCancelsTheMigration() {
        vms.add("a");
        PrintStream broken = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        }, true);
        migration.play("a", at(ACTIVE, 1, GIB)).onCancel("a", ended(CANCELLED, null));
        assertEquals("migration cancelled", error(() -> commands.migrate(new Tty(broken, true, 80), false, "tcp:h:1")));
        assertEquals(List.of("migrate a tcp:h:1", "cancel a"), migration.calls);
    }

    @Test
    void aServiceThatGoesAwayEndsTheWait() {
        vms.add("a");
        migration.play("a", at(ACTIVE, 1, GIB));
        MigrationCommands[] stopping = new MigrationCommands[1];
        stopping[0] = new MigrationCommands(vms, migration, ms -> stopping[0].deactivate());
        assertEquals("the migration service stopped while VM a was migrating",
                error(() -> stopping[0].migrate(plain(), false, "tcp:h:1")));
    }

    // --- the other commands

    @Test
    void incomingPrintsTheRealAddress() {
        vms.add("b");
        assertEquals("listening on tcp:127.0.0.1:41234", commands.migrate_incoming("tcp:127.0.0.1:0"));
        assertEquals("listening on unix:/tmp/b.sock", commands.migrate_incoming("b", "unix:/tmp/b.sock"));
        assertEquals(List.of("incoming b tcp:127.0.0.1:0", "incoming b unix:/tmp/b.sock"), migration.calls);
    }

    @Test
    void cancelSaysWhenThereIsNothingToCancelOrItIsTooLate() throws Exception {
        vms.add("a");
        assertEquals("VM a has no migration running (none)", commands.migrate_cancel());
        migration.play("a", at(ACTIVE, 1, GIB)).onCancel("a", at(CANCELLING, 1, GIB));
        assertNull(commands.migrate_cancel("a"));
        migration.play("a", at(DEVICE, 3, 0)).onCancel("a", at(DEVICE, 3, 0));
        assertEquals("too late to cancel the migration of VM a: it is in device, past the point of no return",
                error(() -> commands.migrate_cancel()));
        migration.play("a", at(DEVICE, 3, 0)).onCancel("a", ended(COMPLETED, null));
        assertEquals("too late to cancel the migration of VM a: it is completed", error(() -> commands.migrate_cancel()));
    }

    @Test
    void cancelWaitsForAnIncomingMigrationToStop() throws Exception {
        vms.add("b");
        migration.play("b", at(ACTIVE, 1, GIB)).onCancel("b", at(ACTIVE, 1, GIB), at(ACTIVE, 1, GIB),
                ended(FAILED, "cancelled"));
        assertNull(commands.migrate_cancel("b"));
        assertEquals(2, sleeps.get());
    }

    // --- vm_create --incoming and --mem-prealloc

    private String create(VmCommands vmCommands, boolean prealloc, String incoming, String name) {
        return vmCommands.vm_create(false, prealloc, name, "--memory", "128M", "--incoming", incoming);
    }

    @Test
    void createWithIncomingUriListensAtOnce() {
        VmCommands vmCommands = new VmCommands(vms);
        vmCommands.migration = migration;
        assertEquals("created VM b: 128 MiB, 1 vCPU, synthetic idle, tracker pml, inmigrate\n"
                + "listening on tcp:127.0.0.1:41234", create(vmCommands, false, "tcp:127.0.0.1:0", "b"));
        assertEquals("tcp:127.0.0.1:0", vms.vm("b").spec().incoming());
        assertEquals(List.of("incoming b tcp:127.0.0.1:0"), migration.calls);
    }

    @Test
    void createWithIncomingDeferWaitsForMigrateIncoming() {
        VmCommands vmCommands = new VmCommands(vms); // no migration service needed for defer
        assertEquals("created VM b: 1 GiB preallocated, 1 vCPU, synthetic idle, tracker pml, inmigrate",
                vmCommands.vm_create(false, true, "b", "--memory", "1G", "--incoming", "defer"));
        assertEquals("defer", vms.vm("b").spec().incoming());
        assertTrue(vms.vm("b").spec().prealloc());
        assertEquals(RunState.INMIGRATE, vms.vm("b").state());
        assertTrue(migration.calls.isEmpty());
    }

    @Test
    void createWithIncomingUriNeedsTheMigrationService() {
        VmCommands vmCommands = new VmCommands(vms);
        assertEquals("--incoming tcp:0.0.0.0:4444 needs the migration service, which is not running (is the"
                + " godwit-coordinator bundle started?)", error(() -> create(vmCommands, false, "tcp:0.0.0.0:4444", "b")));
        assertTrue(vms.list().isEmpty());
    }

    @Test
    void aVmThatCannotListenIsNotCreated() {
        VmCommands vmCommands = new VmCommands(vms);
        vmCommands.migration = migration;
        migration.refusal = new IllegalStateException("cannot listen on tcp:0.0.0.0:4444: Address already in use",
                new IOException("Address already in use"));
        assertEquals("cannot listen on tcp:0.0.0.0:4444: Address already in use (VM b not created)",
                error(() -> create(vmCommands, false, "tcp:0.0.0.0:4444", "b")));
        assertTrue(vms.list().isEmpty());
    }
}
