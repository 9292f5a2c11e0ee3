package io.godwit.api.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * What a VM is made of (QEMU's command line).
 *
 * @param name unique name on the host
 * @param memoryBytes RAM size; a positive multiple of 4 KiB
 * @param vcpus number of vCPUs, 1 or more
 * @param cpuBackend name of the {@code CpuBackend}
 * @param workload the backend's workload or program spec
 * @param dirtyTracker name of the {@code DirtyTracker}
 * @param startPaused create with vCPUs parked ({@code -S})
 * @param memPath a file that backs RAM so another process can map it, or null for anonymous memory
 * @param prealloc fault every page in at creation (QEMU's {@code -mem-prealloc}): first touch of guest
 *     RAM costs 0.5 to 3 s per GiB on this kind of host, and a destination should not pay it during
 *     a migration
 * @param incoming {@code defer} or a URI to wait for an incoming migration on, or null
 * @param uuid the VM's UUID
 * @param devices the devices, each {@code TYPE[,key=value]...} as given to {@code --device}
 */
public record VmSpec(
        String name,
        long memoryBytes,
        int vcpus,
        String cpuBackend,
        String workload,
        String dirtyTracker,
        boolean startPaused,
        Path memPath,
        boolean prealloc,
        String incoming,
        UUID uuid,
        List<String> devices) {

    public static final String DEFAULT_CPU = "synthetic";
    public static final String DEFAULT_WORKLOAD = "idle";
    /**
     * The tracker a VM gets when its spec names none: Intel PML, as KVM uses when the host has it.
     * When the pml bundle is not installed the kernel falls back to {@link #FALLBACK_TRACKER}.
     */
    public static final String DEFAULT_TRACKER = "pml";
    /** The kernel's built-in tracker (KVM's dirty bitmap), always installed. */
    public static final String FALLBACK_TRACKER = "bitmap";
    public static final long DEFAULT_MEMORY = 128L << 20;

    public VmSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cpuBackend, "cpuBackend");
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(dirtyTracker, "dirtyTracker");
        Objects.requireNonNull(uuid, "uuid");
        devices = devices == null ? List.of() : List.copyOf(devices);
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
            throw new IllegalArgumentException(
                    "bad VM name '" + name + "': use letters, digits, '_', '.' or '-', at most 63");
        }
        if (memoryBytes <= 0 || (memoryBytes & 4095) != 0) {
            throw new IllegalArgumentException("memory must be a positive multiple of 4 KiB: " + memoryBytes);
        }
        if (vcpus < 1 || vcpus > 64) {
            throw new IllegalArgumentException("vcpus must be between 1 and 64: " + vcpus);
        }
    }

    /** A spec without devices (the form from before devices existed). */
    public VmSpec(String name, long memoryBytes, int vcpus, String cpuBackend, String workload, String dirtyTracker,
            boolean startPaused, Path memPath, boolean prealloc, String incoming, UUID uuid) {
        this(name, memoryBytes, vcpus, cpuBackend, workload, dirtyTracker, startPaused, memPath, prealloc, incoming,
                uuid, List.of());
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Builds a {@link VmSpec} with the defaults: 128 MiB, 1 vCPU, synthetic idle, pml tracker. */
    public static final class Builder {
        private final String name;
        private long memoryBytes = DEFAULT_MEMORY;
        private int vcpus = 1;
        private String cpuBackend = DEFAULT_CPU;
        private String workload = DEFAULT_WORKLOAD;
        private String dirtyTracker = DEFAULT_TRACKER;
        private boolean startPaused;
        private Path memPath;
        private boolean prealloc;
        private String incoming;
        private UUID uuid;
        private final List<String> devices = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        public Builder memory(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        public Builder vcpus(int n) {
            this.vcpus = n;
            return this;
        }

        public Builder cpu(String backend) {
            this.cpuBackend = backend;
            return this;
        }

        public Builder workload(String spec) {
            this.workload = spec;
            return this;
        }

        public Builder dirtyTracker(String tracker) {
            this.dirtyTracker = tracker;
            return this;
        }

        public Builder paused(boolean paused) {
            this.startPaused = paused;
            return this;
        }

        public Builder memPath(Path path) {
            this.memPath = path;
            return this;
        }

        public Builder prealloc(boolean on) {
            this.prealloc = on;
            return this;
        }

        public Builder incoming(String uri) {
            this.incoming = uri;
            return this;
        }

        public Builder uuid(UUID id) {
            this.uuid = id;
            return this;
        }

        /** Adds a device, {@code TYPE[,key=value]...} ({@code --device}). */
        public Builder device(String spec) {
            this.devices.add(Objects.requireNonNull(spec, "device"));
            return this;
        }

        public VmSpec build() {
            return new VmSpec(
                    name, memoryBytes, vcpus, cpuBackend, workload, dirtyTracker, startPaused, memPath, prealloc,
                    incoming,
                    uuid != null ? uuid : UUID.randomUUID(), devices);
        }
    }
}
