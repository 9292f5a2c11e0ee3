package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info migrate_parameters [NAME]}: each parameter with its unit, as QEMU prints them. */
@Component(service = InfoSubject.class)
public final class MigrateParametersInfo implements InfoSubject {

    private final VmManager vms;
    private final MigrationService migration;

    @Activate
    public MigrateParametersInfo(@Reference VmManager vms, @Reference MigrationService migration) {
        this.vms = vms;
        this.migration = migration;
    }

    @Override
    public String name() {
        return "migrate_parameters";
    }

    @Override
    public String description() {
        return "info migrate_parameters [NAME]: each migration parameter with its unit";
    }

    @Override
    public Object show(String... args) {
        String vm = VmArgs.resolve(vms, "info migrate_parameters", args).name();
        StringBuilder out = new StringBuilder();
        for (MigrationParameter p : MigrationParameter.values()) {
            out.append(p).append(": ").append(MigrationSettings.format(p, migration.parameter(vm, p))).append('\n');
        }
        for (MigrationTextParameter p : MigrationTextParameter.values()) {
            out.append(p).append(": '").append(migration.parameter(vm, p)).append("'\n"); // QEMU's HMP quotes them
        }
        return out.toString().stripTrailing();
    }
}
