package io.godwit.shell.internal;

import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info vms}: every VM with its state, UUID and what its guest is doing. */
@Component(service = InfoSubject.class)
public final class VmsInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public VmsInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "vms";
    }

    @Override
    public String description() {
        return "info vms: every VM with its state, UUID and guest";
    }

    @Override
    public Object show(String... args) {
        if (args.length > 0) {
            throw new IllegalArgumentException("info vms takes no arguments, got: " + String.join(" ", args));
        }
        if (vms.list().isEmpty()) {
            return "no VMs";
        }
        Table t = new Table("NAME", "STATE", "UUID", "GUEST");
        for (Vm vm : vms.list()) {
            t.add(vm.name(), vm.state(), vm.uuid(), vm.describeGuest());
        }
        return t.toString();
    }
}
