package io.godwit.shell.internal;

import io.godwit.api.vm.VmSpec;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The arguments of {@code vm_create}: NAME and the options with a value, which the command takes out
 * of its {@code String...} itself ({@link OptionArgs}), so that a missing value is Godwit's one-line
 * error on every entry point, the console included, and not Gogo's "Cannot coerce". {@code --paused}
 * and {@code --mem-prealloc} are flags and stay Gogo's.
 *
 * <p>{@code --device TYPE[,key=value]...} may be given any number of times, as QEMU's {@code -device};
 * so may {@code --device-map ID=VALUE} (or {@code ID.OPTION=VALUE}): what a destination that takes its
 * shape from the stream uses for a device option naming a resource of this host (a disk image).
 *
 * @param values the options given, by option; the absent ones are missing
 */
record VmCreateArgs(String name, Map<Option, String> values, List<String> devices, Map<String, String> maps) {

    static final String MEMORY_HELP = "RAM size: a bare number is MiB (as QEMU's -m), or use K, M, G, T; default 128M";
    static final String VCPUS_HELP = "number of vCPUs, 1 to 64; default 1";
    static final String CPU_HELP = "CPU backend; default " + VmSpec.DEFAULT_CPU;
    static final String WORKLOAD_HELP = "workload or program for the CPU backend (--guest is the same option): idle, fill"
            + " or sweep for synthetic, ab, hash, mixed or PATH.bin for riscv; default " + VmSpec.DEFAULT_WORKLOAD;
    static final String TRACKER_HELP = "dirty tracker (info dirty-trackers lists them); default " + VmSpec.DEFAULT_TRACKER
            + ", or " + VmSpec.FALLBACK_TRACKER + " when " + VmSpec.DEFAULT_TRACKER + " is not installed";
    static final String MEM_PATH_HELP = "back RAM with this file (shareable with another process); default anonymous memory";
    static final String INCOMING_HELP = "wait for an incoming migration instead of starting (QEMU's -incoming): 'defer'"
            + " waits for migrate_incoming, a URI such as tcp:0.0.0.0:4444 or tcp:127.0.0.1:0 (any free port)"
            + " listens at once and prints where";
    static final String QMP_HELP = "serve QMP, the QEMU Machine Protocol, for this VM (QEMU's -qmp ADDRESS,server):"
            + " unix:PATH (owner-only) or tcp:HOST:PORT (port 0: any free port); qmp_add adds more";
    static final String DEVICE_HELP = "a device (QEMU's -device), any number of times, e.g. --device virtio-net,rx-rate=1000";
    static final String DEVICE_MAP_HELP = "with --incoming URI alone: a device option that names a file of this host,"
            + " e.g. the disk image blk0=PATH (or ID.OPTION=VALUE), any number of times";

    private static final String LINE = "\n      ";
    private static final String GAP = "   ";

    /**
     * What {@code help vm_create} shows under {@code parameters:}: gogo.command's help lists only
     * {@code @Parameter} options, so this one lists the others as its {@code options:} would, one a
     * line (an annotation takes a constant; VmCreateArgsTest keeps it in step with {@link Option}).
     */
    static final String HELP = "NAME [options]: the new VM's name (letters, digits, '_', '.', '-'), then its options"
            + " in any order\n   options:"
            + LINE + "--memory, -m SIZE" + GAP + MEMORY_HELP
            + LINE + "--vcpus, --smp N" + GAP + VCPUS_HELP
            + LINE + "--cpu BACKEND" + GAP + CPU_HELP
            + LINE + "--workload, -w, --guest SPEC" + GAP + WORKLOAD_HELP
            + LINE + "--dirty-tracker NAME" + GAP + TRACKER_HELP
            + LINE + "--mem-path FILE" + GAP + MEM_PATH_HELP
            + LINE + "--incoming defer|URI" + GAP + INCOMING_HELP
            + LINE + "--qmp ADDRESS" + GAP + QMP_HELP
            + LINE + "--device TYPE[,key=value]..." + GAP + DEVICE_HELP
            + LINE + "--device-map ID=VALUE" + GAP + DEVICE_MAP_HELP;

    /** vm_create's options with a value: the placeholder, what the error says is missing, an example, the names. */
    enum Option {
        MEMORY("SIZE", "a SIZE", "a --memory 2G", MEMORY_HELP, "--memory", "-m"),
        VCPUS("N", "a number of vCPUs", "a --vcpus 2", VCPUS_HELP, "--vcpus", "--smp"),
        CPU("BACKEND", "a CPU backend", "a --cpu " + VmSpec.DEFAULT_CPU, CPU_HELP, "--cpu"),
        WORKLOAD("SPEC", "a workload", "a --workload sweep:64M", WORKLOAD_HELP, "--workload", "-w", "--guest"),
        TRACKER("NAME", "a dirty tracker", "a --dirty-tracker bitmap", TRACKER_HELP, "--dirty-tracker"),
        MEM_PATH("FILE", "a FILE", "a --mem-path /dev/shm/a.ram", MEM_PATH_HELP, "--mem-path"),
        INCOMING("defer|URI", "defer or a URI", "a --incoming tcp:127.0.0.1:4444", INCOMING_HELP, "--incoming"),
        QMP("ADDRESS", "an ADDRESS", "a --qmp unix:/run/user/1000/a.qmp", QMP_HELP, "--qmp"),
        DEVICE("TYPE[,key=value]...", "TYPE[,key=value]...", "a --device virtio-net,rx-rate=1000", DEVICE_HELP,
                "--device"),
        DEVICE_MAP("ID=VALUE", "ID=VALUE", "a --incoming tcp:0.0.0.0:4444 --device-map"
                + " blk0=/var/lib/godwit/disk.img", DEVICE_MAP_HELP, "--device-map");

        final String placeholder;
        final String what;
        final String example;
        final String help;
        final String[] names;

        Option(String placeholder, String what, String example, String help, String... names) {
            this.placeholder = placeholder;
            this.what = what;
            this.example = example;
            this.help = help;
            this.names = names;
        }

        /** Its line in {@link #HELP}. */
        String helpLine() {
            return LINE + String.join(", ", names) + " " + placeholder + GAP + help;
        }

        /** Every value given of an option that {@link #repeats}, taken out of {@code options}. */
        List<String> all(OptionArgs options) {
            return options.values(what, example, names);
        }

        /** Whether it may be given any number of times. */
        boolean repeats() {
            return this == DEVICE || this == DEVICE_MAP;
        }
    }

    /**
     * Takes the options out of {@code args} and checks that one NAME is left.
     *
     * @throws IllegalArgumentException for a missing value, an option given twice (but --device and
     *     --device-map), an unknown option, no NAME or more than one, or a bad --device-map
     */
    static VmCreateArgs parse(String... args) {
        OptionArgs options = new OptionArgs("vm_create", args);
        Map<Option, String> values = new EnumMap<>(Option.class);
        for (Option o : Option.values()) {
            String value = o.repeats() ? null : options.value(o.what, o.example, o.names);
            if (value != null) {
                values.put(o, value);
            }
        }
        // --device and --device-map: any number of times
        List<String> devices = Option.DEVICE.all(options);
        Map<String, String> maps = maps(Option.DEVICE_MAP.all(options));
        String name = VmArgs.requiredName("vm_create", "a NAME for the VM", options.rest());
        return new VmCreateArgs(name, values, devices, maps);
    }

    /** The option's value, or {@code otherwise} when it was not given. */
    String get(Option option, String otherwise) {
        return values.getOrDefault(option, otherwise);
    }

    /** Whether the option was given. */
    boolean has(Option option) {
        return values.containsKey(option);
    }

    private static Map<String, String> maps(List<String> given) {
        Map<String, String> maps = new LinkedHashMap<>();
        for (String text : given) {
            int eq = text.indexOf('=');
            String key = eq > 0 ? text.substring(0, eq).strip() : "";
            String value = eq > 0 ? text.substring(eq + 1).strip() : "";
            if (key.isEmpty() || value.isEmpty() || value.contains(",")) {
                throw new IllegalArgumentException("bad --device-map '" + text + "': use ID=VALUE or ID.OPTION=VALUE"
                        + " without commas, e.g. --device-map blk0=/var/lib/godwit/disk.img");
            }
            if (maps.put(key, value) != null) {
                throw new IllegalArgumentException("--device-map " + key + " given twice");
            }
        }
        return maps;
    }
}
