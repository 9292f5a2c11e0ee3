package io.godwit.virtio.blk.internal;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The options of {@code --device virtio-blk,...}: {@code image} (a raw image file, required; created
 * with {@code size} when missing), {@code size} (bytes, default 4 MiB), {@code queue-depth} (requests
 * the guest keeps in flight, default 8) and {@code base} (guest physical address of the queue; default
 * below the top of RAM, under a virtio-net queue).
 */
record BlkOptions(Path image, long size, int depth, long base) {

    private static final Set<String> KNOWN = Set.of("image", "size", "queue-depth", "base");
    static final long DEFAULT_SIZE = 4 << 20;

    static BlkOptions parse(Map<String, String> o) {
        for (String k : o.keySet()) {
            if (!KNOWN.contains(k)) {
                throw new IllegalArgumentException("unknown option '" + k + "' (known: image, size, queue-depth, base)");
            }
        }
        String image = o.get("image");
        if (image == null || image.isBlank()) {
            throw new IllegalArgumentException("needs image=PATH (a raw image file)");
        }
        long size = number(o, "size", DEFAULT_SIZE);
        if (size < BlkLayout.BLOCK || size % BlkLayout.BLOCK != 0 || size > (1L << 30)) {
            throw new IllegalArgumentException("size must be a multiple of 4096 up to 1 GiB: " + size);
        }
        // Everything checked before the device opens (or creates) the image.
        long depth = number(o, "queue-depth", 8);
        if (depth < 1 || depth > BlkLayout.MAX_SLOTS) {
            throw new IllegalArgumentException("queue-depth must be 1 to " + BlkLayout.MAX_SLOTS + ": " + depth);
        }
        long base = number(o, "base", -1);
        if (base != -1 && (base < 0 || (base & (BlkLayout.PAGE - 1)) != 0)) {
            throw new IllegalArgumentException("base must be page aligned: " + base);
        }
        return new BlkOptions(Path.of(image).toAbsolutePath(), size, (int) depth, base);
    }

    private static long number(Map<String, String> o, String key, long dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return v.startsWith("0x") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not a number: " + v);
        }
    }
}
