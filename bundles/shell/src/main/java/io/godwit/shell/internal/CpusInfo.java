package io.godwit.shell.internal;

import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.util.Locale;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info cpus [NAME]}: one row per vCPU with its thread, state, progress and rate. */
@Component(service = InfoSubject.class)
public final class CpusInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public CpusInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "cpus";
    }

    @Override
    public String description() {
        return "info cpus [NAME]: each vCPU's thread, state, progress and rate";
    }

    @Override
    public Object show(String... args) {
        Vm vm = VmArgs.resolve(vms, "info cpus", args);
        Table t = new Table("CPU", "THREAD", "TID", "STATE", "PROGRESS", "RATE/S", "UNIT").right(0, 2, 4, 5);
        for (VcpuInfo c : vm.cpus()) {
            t.add(c.index(), c.thread(), c.threadId(), c.state(), c.progress(), rate(c.ratePerSecond()),
                    c.progressUnit());
        }
        return t.toString();
    }

    /** Whole numbers from 100 up, one decimal below, so slow and idle vCPUs still show a rate. */
    static String rate(double perSecond) {
        return String.format(Locale.ROOT, perSecond >= 100 ? "%.0f" : "%.1f", perSecond);
    }
}
