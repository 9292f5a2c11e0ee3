package io.godwit.shell.internal;

import io.godwit.api.device.VmDevice;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info devices [NAME]}: the VM's devices with their state version, dirty log and state now. */
@Component(service = InfoSubject.class)
public final class DevicesInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public DevicesInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "devices";
    }

    @Override
    public String description() {
        return "info devices [NAME]: each device's type, state version, dirty log and state";
    }

    @Override
    public Object show(String... args) {
        Vm vm = VmArgs.resolve(vms, "info devices", args);
        if (vm.devices().isEmpty()) {
            return "VM " + vm.name() + " has no devices (installed types: "
                    + (vms.deviceTypes().isEmpty() ? "none" : String.join(", ", vms.deviceTypes())) + ")";
        }
        Table t = new Table("ID", "TYPE", "VERSION", "DIRTY-LOG", "STATE");
        for (VmDevice d : vm.devices()) {
            t.add(d.id(), d.type(), d.device().stateVersion(), dirtyLog(d), d.device().describe());
        }
        return t.toString();
    }

    /** Where the device's writes to guest RAM get logged: its own source (vhost) or the DMA path. */
    private static String dirtyLog(VmDevice d) {
        if (d.device().writesGuestMemoryDirectly()) {
            return d.hasDirtyLogSource() ? "own" : "MISSING";
        }
        return d.hasDirtyLogSource() ? "own+dma" : "dma";
    }
}
