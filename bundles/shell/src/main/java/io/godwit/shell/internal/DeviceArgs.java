package io.godwit.shell.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --device TYPE[,key=value]...}, which {@code vm_create} takes any number of times, as QEMU's
 * {@code -device}. Gogo binds a named option once, so the command takes its devices out of the
 * positional arguments, where Gogo leaves options it does not know.
 */
record DeviceArgs(List<String> devices, String[] rest) {

    static final String OPTION = "--device";

    static DeviceArgs split(String... args) {
        List<String> devices = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        String[] a = args == null ? new String[0] : args;
        for (int i = 0; i < a.length; i++) {
            if (OPTION.equals(a[i])) {
                if (i + 1 >= a.length || a[i + 1] == null || a[i + 1].startsWith("-")) {
                    throw new IllegalArgumentException("--device needs TYPE[,key=value]..., e.g. --device"
                            + " virtio-net,rx-rate=1000");
                }
                devices.add(a[++i]);
            } else {
                rest.add(a[i]);
            }
        }
        return new DeviceArgs(devices, rest.toArray(String[]::new));
    }
}
