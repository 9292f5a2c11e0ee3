package io.godwit.shell.internal;

import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code info registers [NAME] [--vcpu N]}: every vCPU's register dump, as QEMU's
 * {@code info registers -a}, or one vCPU's.
 */
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
        return "info registers [NAME] [--vcpu N]: each vCPU's registers, or vCPU N's";
    }

    @Override
    public Object show(String... args) {
        List<String> rest = new ArrayList<>(Arrays.asList(args == null ? new String[0] : args));
        int only = vcpuOption(rest);
        Vm vm = VmArgs.resolve(vms, "info registers", rest.toArray(String[]::new));
        if (only >= vm.spec().vcpus()) {
            throw new IllegalArgumentException("VM " + vm.name() + " has no vCPU " + only + " (it has "
                    + vm.spec().vcpus() + ")");
        }
        StringBuilder out = new StringBuilder();
        for (VcpuInfo cpu : vm.cpus()) {
            if (only >= 0 && cpu.index() != only) {
                continue;
            }
            out.append("CPU#").append(cpu.index()).append('\n');
            out.append(vm.describeVcpu(cpu.index()).stripTrailing()).append("\n\n");
        }
        return out.toString().stripTrailing();
    }

    /** Removes {@code --vcpu N} from the arguments; returns N, or -1 when absent. */
    static int vcpuOption(List<String> args) {
        int i = args.indexOf("--vcpu");
        if (i < 0) {
            return -1;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException("--vcpu needs a vCPU index");
        }
        String n = args.get(i + 1);
        args.subList(i, i + 2).clear();
        try {
            int v = Integer.parseInt(n);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid vCPU index '" + n + "': use 0, 1, ...");
        }
    }
}
