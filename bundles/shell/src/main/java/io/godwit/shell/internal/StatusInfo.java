package io.godwit.shell.internal;

import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info status [NAME]}: QEMU's line, {@code VM status: running} or {@code paused (state)}. */
@Component(service = InfoSubject.class)
public final class StatusInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public StatusInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "status";
    }

    @Override
    public String description() {
        return "info status [NAME]: the VM's run state and why (QEMU's info status)";
    }

    @Override
    public Object show(String... args) {
        Vm vm = VmArgs.resolve(vms, "info status", args);
        return line(vm.state(), vm.stateDetail());
    }

    /** QEMU's format: a stopped VM is "paused", with its state in brackets unless that is plain paused. */
    static String line(RunState state, String detail) {
        StringBuilder s = new StringBuilder("VM status: ");
        if (state == RunState.RUNNING) {
            s.append("running");
        } else {
            s.append("paused");
            if (state != RunState.PAUSED) {
                s.append(" (").append(state.qemuName()).append(')');
            }
        }
        if (detail != null && !detail.isBlank()) {
            s.append(": ").append(detail.strip());
        }
        return s.toString();
    }
}
