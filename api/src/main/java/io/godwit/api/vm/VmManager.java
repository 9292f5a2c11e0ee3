package io.godwit.api.vm;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The VMs of this host. Implemented by the kernel; thread safe.
 */
@ProviderType
public interface VmManager {

    /**
     * Creates a VM: maps its RAM, prepares the guest with its CPU backend, makes the vCPU threads and
     * starts them unless the spec says paused or incoming. Blocks while RAM is mapped.
     *
     * @throws IllegalArgumentException with a one-line message for a duplicate name, an unknown CPU
     *     backend, workload or tracker, or more memory than the host can give
     */
    Vm create(VmSpec spec);

    Optional<Vm> get(String name);

    /** The VMs in creation order. */
    List<Vm> list();

    /**
     * Stops and destroys a VM and frees its RAM. Each {@link VmListener} is told first, on this thread,
     * and ends what it runs for the VM (a migration) before the VM goes.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    void destroy(String name) throws InterruptedException;

    /**
     * Tells {@code listener} of every VM destroyed from now on, before the VM's threads and RAM go
     * (see {@link VmListener#destroying}), and of every run state change of every VM
     * ({@link VmListener#runStateChanged}). Adding a listener twice adds it once.
     */
    void addListener(VmListener listener);

    /** Stops telling {@code listener}; a destroy under way may still call it once. */
    void removeListener(VmListener listener);

    /** Names of the CPU backends installed now. */
    List<String> cpuBackends();

    /** Names of the dirty trackers installed now. */
    List<String> dirtyTrackers();

    /**
     * The dirty trackers installed now, sorted by name, each with its one-line description, for
     * {@code info dirty-trackers}.
     */
    Map<String, String> dirtyTrackerDescriptions();
    /** Names of the device types installed now. */
    default List<String> deviceTypes() {
        return List.of();
    }

    /**
     * The options of a device type that name a resource of this host ({@link
     * io.godwit.api.device.DeviceFactory#LOCAL_OPTIONS}); empty for an unknown type.
     *
     * @since 1.3
     */
    default java.util.Set<String> deviceLocalOptions(String type) {
        return java.util.Set.of();
    }
}
