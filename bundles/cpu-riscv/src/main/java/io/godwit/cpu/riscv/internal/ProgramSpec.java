package io.godwit.cpu.riscv.internal;

import io.godwit.api.vm.ByteSize;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed program spec: {@code NAME[:SIZE][,key=value...]} for a built-in program (for example
 * {@code ab:64M,mark=8} or {@code mixed:iters=1000000}), or the path of a flat binary.
 */
record ProgramSpec(String name, Map<String, String> options) {

    static final String USAGE = "idle, ab[:SIZE][,mark=PASSES], hash[:words=N,steps=N], mixed[:words=N,iters=N],"
            + " or PATH.bin (a flat binary loaded at 0x1000)";

    static ProgramSpec parse(String text) {
        String t = text.strip();
        if (isPath(t)) {
            return new ProgramSpec(t, Map.of());
        }
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        Map<String, String> options = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String part : t.substring(colon + 1).split(",")) {
                int eq = part.indexOf('=');
                if (eq < 0 && options.isEmpty()) {
                    options.put("range", part.strip());
                } else if (eq > 0) {
                    options.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
                } else {
                    throw new IllegalArgumentException("bad program option '" + part + "' in '" + text + "'");
                }
            }
        }
        return new ProgramSpec(name, options);
    }

    static boolean isPath(String t) {
        return t.endsWith(".bin") || t.contains("/");
    }

    boolean isPath() {
        return isPath(name);
    }

    long size(String key, long dflt) {
        String v = options.get(key);
        return v == null ? dflt : ByteSize.parse(v);
    }

    long number(String key, long dflt) {
        String v = options.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.replace("_", ""));
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("program option " + key + " must be a positive number: '" + v + "'");
        }
    }

    void allowOnly(String... keys) {
        for (String k : options.keySet()) {
            if (!List.of(keys).contains(k)) {
                throw new IllegalArgumentException("program " + name + " has no option '" + k + "'");
            }
        }
    }
}
