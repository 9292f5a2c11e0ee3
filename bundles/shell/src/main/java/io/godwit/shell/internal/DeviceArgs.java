package io.godwit.shell.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --device TYPE[,key=value]...}, which {@code vm_create} takes any number of times, as QEMU's
 * {@code -device}, and {@code --device-map ID=VALUE} (or {@code ID.OPTION=VALUE}), as many: what a
 * destination that takes its shape from the stream uses for a device option naming a resource of
 * this host (a disk image). Gogo binds a named option once, so the command takes these out of the
 * positional arguments, where Gogo leaves options it does not know.
 */
record DeviceArgs(List<String> devices, Map<String, String> maps, String[] rest) {

    static final String OPTION = "--device";
    static final String MAP = "--device-map";

    /** The positionals without the device options, and those. */
    static DeviceArgs split(String... args) {
        List<String> devices = new ArrayList<>();
        Map<String, String> maps = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>();
        String[] a = args == null ? new String[0] : args;
        for (int i = 0; i < a.length; i++) {
            if (OPTION.equals(a[i])) {
                devices.add(value(a, i++, "--device needs TYPE[,key=value]..., e.g. --device virtio-net,rx-rate=1000"));
            } else if (MAP.equals(a[i])) {
                map(value(a, i++, "--device-map needs ID=VALUE, e.g. --device-map blk0=/var/lib/godwit/disk.img"), maps);
            } else {
                rest.add(a[i]);
            }
        }
        return new DeviceArgs(devices, maps, rest.toArray(String[]::new));
    }

    private static String value(String[] a, int i, String usage) {
        if (i + 1 >= a.length || a[i + 1] == null || a[i + 1].startsWith("-")) {
            throw new IllegalArgumentException(usage);
        }
        return a[i + 1];
    }

    private static void map(String text, Map<String, String> maps) {
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
}
