package io.godwit.shell.internal;

import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code info dirty [NAME]}: one VM's dirty logging: its tracker, whether logging is on, the sources
 * merged at each sync and the counters (exits by kind, kicks, pages, sync time) since the VM started.
 */
@Component(service = InfoSubject.class)
public final class DirtyInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public DirtyInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "dirty";
    }

    @Override
    public String description() {
        return "info dirty [NAME]: the VM's dirty tracker, logging state, sources and exit and sync counters";
    }

    @Override
    public Object show(String... args) {
        Vm vm = VmArgs.resolve(vms, "info dirty", args);
        DirtyLogging log = vm.dirtyLogging();
        StringBuilder out = new StringBuilder()
                .append("tracker: ").append(log.trackerName()).append('\n')
                .append("logging: ").append(log.active() ? "on" : "off").append('\n')
                .append("sources: ").append(String.join(", ", log.sources())).append('\n');
        Table t = new Table("COUNTER", "VALUE").right(1);
        for (Map.Entry<String, Long> e : log.stats().entrySet()) {
            t.add(e.getKey(), e.getValue());
        }
        return out.append(t).toString().stripTrailing();
    }
}
