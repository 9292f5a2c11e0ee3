package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info migrate_capabilities [NAME]}: each capability, on or off, as QEMU prints them. */
@Component(service = InfoSubject.class)
public final class MigrateCapabilitiesInfo implements InfoSubject {

    private final VmManager vms;
    private final MigrationService migration;

    @Activate
    public MigrateCapabilitiesInfo(@Reference VmManager vms, @Reference MigrationService migration) {
        this.vms = vms;
        this.migration = migration;
    }

    @Override
    public String name() {
        return "migrate_capabilities";
    }

    @Override
    public String description() {
        return "info migrate_capabilities [NAME]: each migration capability, on or off";
    }

    @Override
    public Object show(String... args) {
        String vm = VmArgs.resolve(vms, "info migrate_capabilities", args).name();
        StringBuilder out = new StringBuilder();
        for (MigrationCapability c : MigrationCapability.values()) {
            out.append(c).append(": ").append(MigrationSettings.onOff(migration.capability(vm, c))).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
