package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationService;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info migrate [NAME]}: the VM's migration, outgoing or incoming, with QEMU's fields. */
@Component(service = InfoSubject.class)
public final class MigrateInfo implements InfoSubject {

    private final VmManager vms;
    private final MigrationService migration;

    @Activate
    public MigrateInfo(@Reference VmManager vms, @Reference MigrationService migration) {
        this.vms = vms;
        this.migration = migration;
    }

    @Override
    public String name() {
        return "migrate";
    }

    @Override
    public String description() {
        return "info migrate [NAME]: the migration's status, times and RAM counters (QEMU's info migrate)";
    }

    @Override
    public Object show(String... args) {
        String named = VmArgs.optionalName("info migrate", args);
        if (named != null && vms.get(named).isEmpty()) {
            // a destination still waiting for the hello its VM is made from (or refused it)
            try {
                return MigrationReport.info(migration.info(named));
            } catch (IllegalArgumentException noSuchVm) {
                throw new IllegalArgumentException(VmArgs.noSuchVm(vms, named));
            }
        }
        String vm = VmArgs.resolve(vms, "info migrate", args).name();
        return withTls(MigrationReport.info(migration.info(vm)), migration.tls(vm));
    }

    /** The report and, for a migration over TLS, its session: protocol, cipher suite and the peer. */
    static String withTls(String report, String tls) {
        return tls == null ? report : report + "\ntls: " + tls;
    }
}
