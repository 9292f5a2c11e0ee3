package io.godwit.kernel.internal;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.GuestConfig;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.ByteSize;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmListener;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's VM registry. CPU backends and dirty trackers are whiteboard services tracked here by
 * name; a VM takes the ones its spec names when it is created.
 */
@Component(service = VmManager.class)
public class VmManagerImpl implements VmManager {

    private static final Logger LOG = LoggerFactory.getLogger(VmManagerImpl.class);

    private final Map<String, CpuBackend> backends = new ConcurrentHashMap<>();
    private final Map<String, DirtyTracker> trackers = new ConcurrentHashMap<>();
    private final Map<String, DeviceFactory> deviceFactories = new ConcurrentHashMap<>();
    private final Map<String, java.util.Set<String>> deviceLocalOptions = new ConcurrentHashMap<>();
    private final Map<String, KernelVm> vms = new LinkedHashMap<>();
    /**
     * Held by a create from its name check to the VM's entry in {@link #vms}, and by a plugin's removal,
     * so a removal sees every VM made with the plugin (none is half made while it looks).
     */
    private final Object creating = new Object();
    private final CopyOnWriteArrayList<VmListener> listeners = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addCpuBackend(CpuBackend backend, Map<String, Object> props) {
        name(props, CpuBackend.NAME).ifPresent(n -> backends.put(n, backend));
    }

    public void removeCpuBackend(CpuBackend backend, Map<String, Object> props) {
        synchronized (creating) {
            name(props, CpuBackend.NAME).ifPresent(n -> {
                backends.remove(n, backend);
                // Its code is going away: VMs that run on it stop, like a guest whose CPU vanished.
                for (KernelVm vm : snapshot()) {
                    if (vm.cpuBackend().equals(n)) {
                        vm.guestStopped(RunState.GUEST_ERROR, "CPU backend '" + n + "' was removed");
                    }
                }
            });
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addDirtyTracker(DirtyTracker tracker, Map<String, Object> props) {
        name(props, DirtyTracker.NAME).ifPresent(n -> trackers.put(n, tracker));
    }

    public void removeDirtyTracker(DirtyTracker tracker, Map<String, Object> props) {
        synchronized (creating) {
            name(props, DirtyTracker.NAME).ifPresent(n -> {
                if (!trackers.remove(n, tracker)) {
                    return;
                }
                // Its code is going away: its VMs keep running on the fallback tracker, and a migration
                // that was logging with it fails at its next sync (KernelDirtyLogging.trackerRemoved).
                for (KernelVm vm : snapshot()) {
                    if (vm.dirtyLogging().trackerName().equals(n)) {
                        moveToFallback(vm, n);
                    }
                }
            });
        }
    }

    private void moveToFallback(KernelVm vm, String removed) {
        DirtyTracker fallback = trackers.get(VmSpec.FALLBACK_TRACKER);
        if (fallback == null) {
            vm.guestStopped(RunState.GUEST_ERROR, "dirty tracker '" + removed + "' was removed and there is no "
                    + VmSpec.FALLBACK_TRACKER + " tracker to go on with");
            return;
        }
        try {
            vm.trackerRemoved(VmSpec.FALLBACK_TRACKER, fallback.create(vm.memory(), vm.spec().vcpus()));
            LOG.warn("dirty tracker '{}' was removed: VM {} goes on with '{}'", removed, vm.name(),
                    VmSpec.FALLBACK_TRACKER);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addDeviceFactory(DeviceFactory factory, Map<String, Object> props) {
        name(props, DeviceFactory.NAME).ifPresent(n -> {
            deviceLocalOptions.put(n, strings(props.get(DeviceFactory.LOCAL_OPTIONS)));
            deviceFactories.put(n, factory);
        });
    }

    /** A String or String[] service property as a set; empty when absent. */
    private static java.util.Set<String> strings(Object value) {
        if (value instanceof String s) {
            return java.util.Set.of(s.strip());
        }
        if (value instanceof String[] a) {
            return java.util.Arrays.stream(a).map(String::strip).collect(java.util.stream.Collectors.toUnmodifiableSet());
        }
        return java.util.Set.of();
    }

    public void removeDeviceFactory(DeviceFactory factory, Map<String, Object> props) {
        synchronized (creating) {
            name(props, DeviceFactory.NAME).ifPresent(n -> {
                if (!deviceFactories.remove(n, factory)) {
                    return;
                }
                // Its code is going away: VMs with such a device stop, as for a removed CPU backend.
                for (KernelVm vm : snapshot()) {
                    if (vm.devices().stream().anyMatch(d -> d.type().equals(n))) {
                        vm.guestStopped(RunState.GUEST_ERROR, "device type '" + n + "' was removed");
                        try {
                            // No thread of the departing bundle may go on running: wait for vCPU 0 to
                            // leave its guest driver, then stop the device's workers, before returning.
                            vm.pauseDevicesWhenParked();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            });
        }
    }

    /** Undoes a create that failed after the VM existed: devices unrealized, vCPU threads stopped, RAM freed. */
    private static void destroyHalfMade(KernelVm vm, RuntimeException cause) {
        try {
            vm.destroy();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            cause.addSuppressed(ie);
        } catch (RuntimeException re) {
            cause.addSuppressed(re);
        }
    }

    private static Optional<String> name(Map<String, Object> props, String key) {
        Object v = props.get(key);
        return v instanceof String s && !s.isBlank() ? Optional.of(s) : Optional.empty();
    }

    /**
     * Creates are one at a time (the RAM check and the mapping go together), under their own lock, not
     * the registry's: mapping and preallocating RAM can take seconds, and lookups of other VMs (a
     * management tool polling {@code query-migrate}) must not wait for it.
     */
    @Override
    public Vm create(VmSpec spec) {
        synchronized (creating) {
            synchronized (vms) {
                if (vms.containsKey(spec.name())) {
                    throw new IllegalArgumentException("a VM named '" + spec.name() + "' already exists");
                }
            }
            CpuBackend backend = lookup(backends, spec.cpuBackend(), "CPU backend");
            String trackerName = trackerFor(spec);
            DirtyTracker tracker = lookup(trackers, trackerName, "dirty tracker");
            if (spec.memPath() == null) {
                HostMemory.checkAvailable(spec.memoryBytes());
            }
            KernelGuestMemory memory = KernelGuestMemory.map(spec.memoryBytes(), spec.memPath(), spec.prealloc());
            KernelVm vm = null;
            try {
                Guest guest = backend.createGuest(
                        new GuestConfig(spec.name(), memory, spec.vcpus(), spec.workload()));
                DirtyLog log = tracker.create(memory, spec.vcpus());
                vm = new KernelVm(spec, memory, guest, trackerName, log);
                vm.onStateChange(this::tellStateChange);
                vm.createDevices(type -> lookup(deviceFactories, type, "device type"));
                vm.boot();
                synchronized (vms) {
                    vms.put(spec.name(), vm);
                }
                LOG.info("created VM {}: {} RAM, {} vCPUs, {} {}", spec.name(), ByteSize.format(spec.memoryBytes()),
                        spec.vcpus(), spec.cpuBackend(), spec.workload());
                return vm;
            } catch (RuntimeException e) {
                if (vm == null) {
                    memory.close();
                } else {
                    destroyHalfMade(vm, e); // boot failed: its devices and vCPU threads go too
                }
                throw e;
            }
        }
    }

    /** The spec's tracker; the default one falls back to the built-in bitmap when it is not installed. */
    private String trackerFor(VmSpec spec) {
        String name = spec.dirtyTracker();
        if (name.equals(VmSpec.DEFAULT_TRACKER) && !trackers.containsKey(name)) {
            LOG.debug("VM {}: default dirty tracker '{}' is not installed, using '{}'", spec.name(), name,
                    VmSpec.FALLBACK_TRACKER);
            return VmSpec.FALLBACK_TRACKER;
        }
        return name;
    }

    private static <T> T lookup(Map<String, T> services, String name, String what) {
        T s = services.get(name);
        if (s == null) {
            throw new IllegalArgumentException("unknown " + what + " '" + name + "' (installed: "
                    + String.join(", ", services.keySet().stream().sorted().toList()) + ")");
        }
        return s;
    }

    @Override
    public Optional<Vm> get(String name) {
        synchronized (vms) {
            return Optional.ofNullable(vms.get(name));
        }
    }

    @Override
    public List<Vm> list() {
        return List.copyOf(snapshot());
    }

    private List<KernelVm> snapshot() {
        synchronized (vms) {
            return new ArrayList<>(vms.values());
        }
    }

    @Override
    public void destroy(String name) throws InterruptedException {
        KernelVm vm;
        synchronized (vms) {
            vm = vms.remove(name);
        }
        if (vm == null) {
            throw new IllegalArgumentException("no VM named '" + name + "'");
        }
        try {
            tellDestroying(vm);
        } finally {
            vm.destroy();
        }
        LOG.info("destroyed VM {}", name);
    }

    /** Out of the registry, still whole: each listener ends what it runs for the VM (a migration reading its RAM). */
    private void tellDestroying(KernelVm vm) throws InterruptedException {
        for (VmListener l : listeners) {
            try {
                l.destroying(vm);
            } catch (RuntimeException e) {
                LOG.warn("VM {}: a listener failed while the VM was destroyed", vm.name(), e);
            }
        }
    }

    /** Under the VM's lock, on the thread that changed the state: each listener only queues it (its contract). */
    private void tellStateChange(KernelVm vm, RunState from, RunState to) {
        for (VmListener l : listeners) {
            try {
                l.runStateChanged(vm, from, to);
            } catch (RuntimeException e) {
                LOG.warn("VM {}: a listener failed on the run state change {} -> {}", vm.name(), from, to, e);
            }
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
        return backends.keySet().stream().sorted().toList();
    }

    @Override
    public List<String> dirtyTrackers() {
        return trackers.keySet().stream().sorted().toList();
    }

    @Override
    public Map<String, String> dirtyTrackerDescriptions() {
        Map<String, String> m = new TreeMap<>();
        trackers.forEach((n, t) -> m.put(n, t.description()));
        return m;
    }

    @Override
    public List<String> deviceTypes() {
        return deviceFactories.keySet().stream().sorted().toList();
    }

    @Override
    public java.util.Set<String> deviceLocalOptions(String type) {
        return deviceFactories.containsKey(type) ? deviceLocalOptions.getOrDefault(type, java.util.Set.of())
                : java.util.Set.of();
    }

    @Deactivate
    public void deactivate() throws InterruptedException {
        synchronized (creating) { // no VM is half made, none made after
            for (KernelVm vm : snapshot()) {
                destroy(vm.name());
            }
        }
    }
}
