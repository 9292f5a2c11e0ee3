package io.godwit.cpu.synthetic.internal;

import io.godwit.api.vm.ByteSize;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parsed workload spec: {@code NAME[:ARG][,key=value...]}, for example {@code sweep},
 * {@code sweep:16M}, {@code sweep:range=512M,rate=20000}.
 */
record WorkloadSpec(String name, Map<String, String> options) {

    static final String USAGE = "idle, fill[:random=PERCENT], sweep[:SIZE][,rate=PAGES_PER_SECOND]";

    static WorkloadSpec parse(String text) {
        String t = text.trim();
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        Map<String, String> options = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String part : t.substring(colon + 1).split(",")) {
                int eq = part.indexOf('=');
                if (eq < 0 && options.isEmpty()) {
                    options.put("range", part.trim()); // the first bare value is the range
                } else if (eq > 0) {
                    options.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
                } else {
                    throw new IllegalArgumentException("bad workload option '" + part + "' in '" + text + "'");
                }
            }
        }
        return new WorkloadSpec(name, options);
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
            long n = Long.parseLong(v);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("workload option " + key + " must be a positive number: '" + v + "'");
        }
    }

    /** Refuses options the workload does not know, so a typo is not silently ignored. */
    void allowOnly(String... keys) {
        for (String k : options.keySet()) {
            if (!java.util.List.of(keys).contains(k)) {
                throw new IllegalArgumentException("workload " + name + " has no option '" + k + "'");
            }
        }
    }
}
