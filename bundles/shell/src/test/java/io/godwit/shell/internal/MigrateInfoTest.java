package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The migration subjects of {@code info}, as {@link InfoCommand} dispatches to them. */
class MigrateInfoTest {

    private final FakeVmManager vms = new FakeVmManager();
    private final FakeMigration migration = new FakeMigration(vms);
    private final InfoCommand info = new InfoCommand();

    @BeforeEach
    void bindSubjects() {
        info.addSubject(new StatusInfo(vms));
        info.addSubject(new MigrateInfo(vms, migration));
        info.addSubject(new MigrateCapabilitiesInfo(vms, migration));
        info.addSubject(new MigrateParametersInfo(vms, migration));
    }

    @Test
    void theSubjectsAreListed() throws Exception {
        assertEquals(String.join("\n",
                        "SUBJECT               SHOWS",
                        "migrate               info migrate [NAME] [--report FILE.html]: the migration's status, times"
                                + " and RAM counters (QEMU's info migrate); --report also writes a page with charts of"
                                + " its passes and switchover",
                        "migrate_capabilities  info migrate_capabilities [NAME]: each migration capability, on or off",
                        "migrate_parameters    info migrate_parameters [NAME]: each migration parameter with its unit",
                        "status                info status [NAME]: the VM's run state and why (QEMU's info status)"),
                info.info());
    }

    @Test
    void migrateShowsTheVmsMigration() throws Exception {
        vms.add("a");
        assertEquals("Migration status: none", info.info("migrate"));
        migration.play("a", FakeMigration.at(MigrationStatus.ACTIVE, 2, 64L << 20));
        assertEquals("Migration status: active\ntotal time:        200 ms", String.join("\n",
                info.info("migrate", "a").toString().lines().limit(2).toList()));
        vms.add("b");
        assertEquals("2 VMs on this host (a, b): name one, e.g. info migrate a",
                assertThrows(IllegalArgumentException.class, () -> info.info("migrate")).getMessage());
    }

    @Test
    void capabilitiesAreOnOrOff() throws Exception {
        vms.add("a");
        migration.setCapability("a", MigrationCapability.EVENTS, true);
        migration.setCapability("a", MigrationCapability.RETURN_PATH, false);
        assertEquals(String.join("\n",
                        "events: on",
                        "return-path: off",
                        "validate-uuid: off",
                        "pause-before-switchover: off",
                        "verify-ram: off",
                        "auto-converge: off",
                        "copy-storage: off",
                        "postcopy-ram: off",
                        "mapped-ram: off",
                        "xbzrle: off",
                        "multifd: off"),
                info.info("migrate_capabilities"));
    }

    @Test
    void parametersCarryTheirUnits() throws Exception {
        vms.add("a");
        migration.setParameter("a", MigrationParameter.MAX_BANDWIDTH, 100L << 20);
        migration.setParameter("a", io.godwit.api.migration.MigrationTextParameter.TLS_HOSTNAME, "dst.example.com");
        assertEquals(String.join("\n",
                        "downtime-limit: 300 ms",
                        "max-bandwidth: 104857600 bytes/s (100 MiB/s)",
                        "max-postcopy-bandwidth: 0 (unlimited)",
                        "cpu-throttle-initial: 20 %",
                        "cpu-throttle-increment: 10 %",
                        "max-cpu-throttle: 99 %",
                        "stall-action: none",
                        "stall-passes: 10 passes",
                        "stall-seconds: 30 s",
                        "xbzrle-cache-size: 67108864 bytes (64 MiB)",
                        "multifd-channels: 2 channels",
                        "multifd-compression: none",
                        "multifd-zlib-level: 1",
                        "multifd-zstd-level: 1",
                        "tls-creds: ''",
                        "tls-hostname: 'dst.example.com'",
                        "tls-authz: ''"),
                info.info("migrate_parameters", "a"));
    }
}
