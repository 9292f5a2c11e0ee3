package io.godwit.api.cpu;

import io.godwit.api.memory.GuestMemory;
import java.util.Objects;

/**
 * What a {@link CpuBackend} is given to prepare a guest.
 *
 * @param vmName the VM's name, for thread names and messages
 * @param memory the VM's RAM, zero filled (or the content of its backing file)
 * @param vcpus number of vCPUs, at least 1
 * @param workload the workload or program spec, as given to {@code vm_create --workload}
 */
public record GuestConfig(String vmName, GuestMemory memory, int vcpus, String workload) {
    public GuestConfig {
        Objects.requireNonNull(vmName, "vmName");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(workload, "workload");
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be at least 1");
        }
    }
}
