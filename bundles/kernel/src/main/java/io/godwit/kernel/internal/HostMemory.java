package io.godwit.kernel.internal;

import io.godwit.api.vm.ByteSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the host can give: guest RAM is refused up front rather than failing at first touch. */
final class HostMemory {

    private HostMemory() {}

    /** Throws a one-line IllegalArgumentException when {@code bytes} exceed what the host has free. */
    static void checkAvailable(long bytes) {
        long available = memAvailable();
        if (available > 0 && bytes > available) {
            throw new IllegalArgumentException("cannot allocate " + ByteSize.format(bytes)
                    + " of guest RAM: the host has " + ByteSize.format(available) + " available");
        }
    }

    /** MemAvailable from /proc/meminfo in bytes, or -1 where there is no such file. */
    static long memAvailable() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String kb = line.substring("MemAvailable:".length()).replace("kB", "").trim();
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
