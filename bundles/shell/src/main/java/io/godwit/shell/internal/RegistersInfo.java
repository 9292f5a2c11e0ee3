package io.godwit.shell.internal;

import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info registers [NAME]}: every vCPU's register dump, as QEMU's {@code info registers -a}. */
@Component(service = InfoSubject.class)
public final class RegistersInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public RegistersInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "registers";
    }

    @Override
    public String description() {
        return "info registers [NAME]: each vCPU's registers";
    }

    @Override
    public Object show(String... args) {
        Vm vm = VmArgs.resolve(vms, "info registers", args);
        StringBuilder out = new StringBuilder();
        for (VcpuInfo cpu : vm.cpus()) {
            out.append("CPU#").append(cpu.index()).append('\n');
            out.append(vm.describeVcpu(cpu.index()).stripTrailing()).append("\n\n");
        }
        return out.toString().stripTrailing();
    }
}
