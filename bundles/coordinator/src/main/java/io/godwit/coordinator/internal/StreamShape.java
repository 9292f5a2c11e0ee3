package io.godwit.coordinator.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.DeviceInfo;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.RamBlockInfo;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A destination VM made from the source's hello, as Cloud Hypervisor's destination takes its
 * configuration from the source: RAM, vCPUs, CPU backend and workload, devices and UUID come from the
 * stream, the host's own choices (tracker, paused, mem-path, prealloc) from {@code vm_create}. The
 * hello is the peer's word: everything is range-checked here, and nothing in it may name a resource
 * of this host (a file): a device option that does is taken from {@code --device-map}, or refused.
 */
final class StreamShape {

    private StreamShape() {}

    /**
     * The spec of the VM to create, or a {@link MigrationFailure} saying why this host cannot make it
     * (and which option would let it).
     */
    static VmSpec spec(Hello hello, VmSpec local, Map<String, String> deviceMap, VmManager vms) {
        if (hello.getPageSize() != RamBlock.PAGE_SIZE) {
            throw new MigrationFailure("the source's page size " + Integer.toUnsignedString(hello.getPageSize())
                    + " is not 4096");
        }
        VmSpec.Builder b = VmSpec.builder(local.name())
                .memory(memory(hello))
                .vcpus(vcpus(hello))
                .cpu(installed("CPU backend", hello.getCpuBackend(), vms.cpuBackends()))
                .workload(workload(hello.getWorkload()))
                .dirtyTracker(local.dirtyTracker())
                .paused(local.startPaused())
                .memPath(local.memPath())
                .prealloc(local.prealloc())
                .incoming(local.incoming())
                .uuid(VmDescription.uuid(hello.getUuid()));
        Set<String> used = new HashSet<>();
        for (DeviceInfo d : hello.getDevicesList()) {
            b.device(device(d, deviceMap, used, vms));
        }
        for (String key : deviceMap.keySet()) {
            if (!used.contains(key)) {
                throw new MigrationFailure("--device-map " + key + ": the source has no such device or option"
                        + " (its devices: " + devices(hello) + ")");
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new MigrationFailure("the source's VM cannot be made here: " + e.getMessage());
        }
    }

    private static long memory(Hello hello) {
        if (hello.getBlocksCount() == 0 || hello.getBlocksCount() > WireLimits.MAX_BLOCKS) {
            throw new MigrationFailure("the source has " + hello.getBlocksCount() + " RAM blocks");
        }
        long total = 0;
        for (RamBlockInfo block : hello.getBlocksList()) {
            long size = block.getSize(); // a uint64: above 2^63 it is negative here
            if (size <= 0 || size % RamBlock.PAGE_SIZE != 0 || total + size < total) {
                throw new MigrationFailure("the source's RAM block '" + Printable.quote(block.getName()) + "' of "
                        + Long.toUnsignedString(size) + " bytes is not a whole number of pages this host can map");
            }
            total += size;
        }
        return total;
    }

    private static int vcpus(Hello hello) {
        int n = hello.getVcpus();
        if (n < 1 || n > 64) {
            throw new MigrationFailure("the source has " + Integer.toUnsignedString(n) + " vCPUs; a VM has 1 to 64");
        }
        return n;
    }

    /** A workload that is a file (a RISC-V {@code PATH.bin}) is the source host's file, not ours. */
    private static String workload(String w) {
        if (w.isEmpty() || w.contains("/") || w.endsWith(".bin")) {
            throw new MigrationFailure("the source's guest program '" + Printable.quote(w) + "' is a file of its"
                    + " host: create this VM with its shape (--memory, --vcpus, --cpu, --workload PATH)");
        }
        return w;
    }

    private static String installed(String what, String name, List<String> here) {
        if (!here.contains(name)) {
            throw new MigrationFailure("the source's " + what + " '" + Printable.quote(name)
                    + "' is not installed here (installed: " + String.join(", ", here) + ")");
        }
        return name;
    }

    /**
     * The {@code --device} text for one of the source's devices: its type and options from the hello,
     * its id, and each option that names a resource of this host from the map. The options are
     * parsed as the kernel parses {@code --device}; the kernel and the device check their values.
     */
    private static String device(DeviceInfo d, Map<String, String> deviceMap, Set<String> used, VmManager vms) {
        String label = "the source's device " + Printable.quote(d.getId()) + " (" + Printable.quote(d.getType()) + ")";
        installed("device type", d.getType(), vms.deviceTypes());
        if (!d.getId().matches("[A-Za-z][A-Za-z0-9_.-]{0,31}")) {
            throw new MigrationFailure(label + " has a bad id");
        }
        String[] parts = d.getOptions().isEmpty() ? new String[] {d.getType()} : d.getOptions().split(",", -1);
        if (!parts[0].strip().equals(d.getType())) {
            throw new MigrationFailure(label + ": its options do not start with its type");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0 || options.put(parts[i].substring(0, eq).strip(), parts[i].substring(eq + 1).strip()) != null) {
                throw new MigrationFailure(label + ": bad option '" + Printable.quote(parts[i]) + "'");
            }
        }
        options.remove("id");
        Set<String> local = new HashSet<>(vms.deviceLocalOptions(d.getType()));
        options.forEach((k, v) -> {
            if (v.contains("/")) {
                local.add(k); // a path of the source's host, whatever the device says
            }
        });
        for (String key : local) {
            String mapped = mapped(d.getId(), key, local.size(), deviceMap, used);
            if (mapped == null) {
                if (options.containsKey(key)) {
                    throw new MigrationFailure(label + " needs its " + key + " on this host: give --device-map "
                            + d.getId() + (local.size() == 1 ? "" : "." + key) + "=" + (key.equals("image") ? "PATH" : "VALUE"));
                }
                continue;
            }
            options.put(key, mapped);
        }
        StringBuilder text = new StringBuilder(d.getType()).append(",id=").append(d.getId());
        options.forEach((k, v) -> text.append(',').append(k).append('=').append(v));
        return text.toString();
    }

    private static String mapped(String id, String key, int locals, Map<String, String> deviceMap, Set<String> used) {
        String exact = id + "." + key;
        if (deviceMap.containsKey(exact)) {
            used.add(exact);
            return deviceMap.get(exact);
        }
        if (locals == 1 && deviceMap.containsKey(id)) {
            used.add(id);
            return deviceMap.get(id);
        }
        return null;
    }

    private static String devices(Hello hello) {
        return hello.getDevicesCount() == 0 ? "none" : String.join(", ", hello.getDevicesList().stream()
                .map(d -> Printable.quote(d.getId()) + " " + Printable.quote(d.getType())).toList());
    }
}
