package io.godwit.shell.internal;

import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info dirty-trackers}: the trackers installed now, which one is the default, what each does. */
@Component(service = InfoSubject.class)
public final class DirtyTrackersInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public DirtyTrackersInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "dirty-trackers";
    }

    @Override
    public String description() {
        return "info dirty-trackers: the dirty trackers installed, for vm_create --dirty-tracker";
    }

    @Override
    public Object show(String... args) {
        if (args.length > 0) {
            throw new IllegalArgumentException("info dirty-trackers takes no arguments");
        }
        Table t = new Table("NAME", "DEFAULT", "DESCRIPTION");
        vms.dirtyTrackerDescriptions().forEach((name, what) -> t.add(name, mark(name), what));
        return t.toString();
    }

    /** The default, or the fallback that stands in for it when the default is not installed. */
    private String mark(String name) {
        boolean defaultInstalled = vms.dirtyTrackers().contains(VmSpec.DEFAULT_TRACKER);
        String standIn = defaultInstalled ? VmSpec.DEFAULT_TRACKER : VmSpec.FALLBACK_TRACKER;
        return name.equals(standIn) ? "*" : "";
    }
}
