package io.godwit.shell.internal;

import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmListener;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.TreeMap;
import java.util.Map;
import java.util.Optional;

/** A VM registry with the kernel's refusals, for unit tests of the commands. */
final class FakeVmManager implements VmManager {

    static final long HOST_MEMORY = 16L << 30;

    private final Map<String, FakeVm> vms = new LinkedHashMap<>();
    private final java.util.concurrent.CopyOnWriteArrayList<VmListener> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public synchronized FakeVm create(VmSpec spec) {
        if (vms.containsKey(spec.name())) {
            throw new IllegalArgumentException("VM " + spec.name() + " exists");
        }
        if (spec.memoryBytes() > HOST_MEMORY) {
            throw new IllegalArgumentException("cannot map " + spec.memoryBytes() + " bytes: the host has 16 GiB");
        }
        if (!List.of("idle", "fill", "sweep").contains(spec.workload().split(":")[0])) {
            throw new IllegalArgumentException("unknown workload '" + spec.workload() + "'");
        }
        FakeVm vm = new FakeVm(spec);
        vms.put(spec.name(), vm);
        return vm;
    }

    FakeVm add(String name) {
        return create(VmSpec.builder(name).build());
    }

    @Override
    public synchronized Optional<Vm> get(String name) {
        return Optional.ofNullable(vms.get(name));
    }

    FakeVm vm(String name) {
        return vms.get(name);
    }

    @Override
    public synchronized List<Vm> list() {
        return new ArrayList<>(vms.values());
    }

    @Override
    public void destroy(String name) {
        FakeVm vm;
        synchronized (this) {
            vm = vms.remove(name);
        }
        if (vm == null) {
            throw new IllegalArgumentException("no VM " + name);
        }
        try {
            for (VmListener l : listeners) {
                l.destroying(vm);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void addListener(VmListener listener) {
        listeners.addIfAbsent(listener);
    }

    @Override
    public void removeListener(VmListener listener) {
        listeners.remove(listener);
    }

    @Override
    public List<String> cpuBackends() {
        return List.of("synthetic");
    }

    @Override
    public List<String> dirtyTrackers() {
        return List.of("bitmap", "pml");
    }

    @Override
    public Map<String, String> dirtyTrackerDescriptions() {
        return new TreeMap<>(Map.of("bitmap", "KVM's dirty bitmap", "pml", "Intel PML"));
    }
}
