package io.godwit.shell.internal;

import io.godwit.api.qmp.QmpServers;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import java.util.List;

/** {@code info vms}: every VM with its state, UUID, QMP addresses and what its guest is doing. */
@Component(service = InfoSubject.class)
public final class VmsInfo implements InfoSubject {

    private final VmManager vms;

    /** The QMP addresses, when the godwit-qmp bundle runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile QmpServers qmp;

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
        return "info vms: every VM with its state, UUID, QMP addresses and guest";
    }

    @Override
    public Object show(String... args) {
        if (args.length > 0) {
            throw new IllegalArgumentException("info vms takes no arguments, got: " + String.join(" ", args));
        }
        if (vms.list().isEmpty()) {
            return "no VMs";
        }
        QmpServers servers = qmp;
        Table t = new Table("NAME", "STATE", "UUID", "QMP", "GUEST");
        for (Vm vm : vms.list()) {
            List<String> addresses = servers == null ? List.of() : servers.addresses(vm.name());
            t.add(vm.name(), vm.state(), vm.uuid(), addresses.isEmpty() ? "-" : String.join(",", addresses),
                    vm.describeGuest());
        }
        return t.toString();
    }
}
