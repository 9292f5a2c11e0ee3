package io.godwit.kernel.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code --device TYPE[,key=value]...} argument, parsed: QEMU's {@code -device} syntax. The
 * {@code id} option names the device; without it the kernel numbers devices per type.
 */
record DeviceSpec(String type, Map<String, String> options) {

    static DeviceSpec parse(String text) {
        String[] parts = text.strip().split(",");
        String type = parts[0].strip();
        if (type.isEmpty() || type.contains("=")) {
            throw new IllegalArgumentException("bad --device '" + text + "': it starts with the device type, e.g."
                    + " virtio-net,rx-rate=1000");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip();
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("bad --device option '" + p + "' in '" + text + "': use key=value");
            }
            if (options.put(p.substring(0, eq), p.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("--device option '" + p.substring(0, eq) + "' given twice in '"
                        + text + "'");
            }
        }
        return new DeviceSpec(type, options);
    }

    /** {@code net} for virtio-net: the stem of default ids (net0, net1, ...). */
    String idStem() {
        int dash = type.lastIndexOf('-');
        return dash >= 0 ? type.substring(dash + 1) : type;
    }
}
