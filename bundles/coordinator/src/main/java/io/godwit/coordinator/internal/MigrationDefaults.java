package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The host's migration defaults: what a VM's capabilities and parameters are until
 * {@code migrate_set_capability} or {@code migrate_set_parameter} sets them. Built in (QEMU's), or
 * from the configuration {@value #PID} ({@code etc/io.godwit.migration.cfg}: one line per setting,
 * QEMU's names, e.g. {@code verify-ram = on}, {@code downtime-limit = 500}, {@code max-bandwidth = 1G}).
 * Immutable: a changed file makes a new one, which the next migration takes.
 */
record MigrationDefaults(Map<MigrationCapability, Boolean> capabilities, Map<MigrationParameter, Long> parameters) {

    /** The configuration PID, and so the file name {@code etc/io.godwit.migration.cfg}. */
    static final String PID = "io.godwit.migration";

    static final MigrationDefaults BUILT_IN = builtIn();

    MigrationDefaults {
        capabilities = Map.copyOf(capabilities);
        parameters = Map.copyOf(parameters);
    }

    boolean capability(MigrationCapability c) {
        return capabilities.get(c);
    }

    long parameter(MigrationParameter p) {
        return parameters.get(p);
    }

    private static MigrationDefaults builtIn() {
        Map<MigrationCapability, Boolean> caps = new EnumMap<>(MigrationCapability.class);
        for (MigrationCapability c : MigrationCapability.values()) {
            caps.put(c, c.defaultValue());
        }
        Map<MigrationParameter, Long> params = new EnumMap<>(MigrationParameter.class);
        for (MigrationParameter p : MigrationParameter.values()) {
            params.put(p, p.defaultValue());
        }
        return new MigrationDefaults(caps, params);
    }

    /**
     * The defaults a configuration gives: the built-in ones with the configuration's settings over
     * them. Keys with a dot are ConfigAdmin's and FileInstall's own ({@code service.pid},
     * {@code felix.fileinstall.filename}) and are skipped. A setting that cannot be used (an unknown
     * name, a bad value) keeps the built-in value and is listed in {@code problems}, one line each.
     */
    static MigrationDefaults from(Map<String, ?> config, List<String> problems) {
        Map<MigrationCapability, Boolean> caps = new EnumMap<>(BUILT_IN.capabilities);
        Map<MigrationParameter, Long> params = new EnumMap<>(BUILT_IN.parameters);
        for (Map.Entry<String, ?> e : config.entrySet()) {
            String key = e.getKey().strip();
            if (key.contains(".")) {
                continue;
            }
            String value = String.valueOf(e.getValue()).strip();
            try {
                var cap = MigrationCapability.byName(key);
                var param = MigrationParameter.byName(key);
                if (cap.isPresent()) {
                    caps.put(cap.get(), onOff(value));
                } else if (param.isPresent()) {
                    params.put(param.get(), param.get().check(number(param.get(), value)));
                } else {
                    throw new IllegalArgumentException("unknown setting (capabilities: " + names(MigrationCapability.values())
                            + "; parameters: " + names(MigrationParameter.values()) + ")");
                }
            } catch (IllegalArgumentException bad) {
                problems.add(key + " = " + value + ": " + bad.getMessage() + "; the built-in value stays");
            }
        }
        return new MigrationDefaults(caps, params);
    }

    /** The settings that differ from the built-in ones, as {@code name=value}, for the log. */
    List<String> changes() {
        List<String> out = new ArrayList<>();
        for (MigrationCapability c : MigrationCapability.values()) {
            if (capability(c) != c.defaultValue()) {
                out.add(c.qemuName() + "=" + (capability(c) ? "on" : "off"));
            }
        }
        for (MigrationParameter p : MigrationParameter.values()) {
            if (parameter(p) != p.defaultValue()) {
                out.add(p.qemuName() + "=" + parameter(p));
            }
        }
        return out;
    }

    private static boolean onOff(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new IllegalArgumentException("a capability is on or off");
        };
    }

    /** A whole number; bandwidths take K, M, G or T (powers of 1024); stall-action takes its names. */
    private static long number(MigrationParameter p, String text) {
        if (p == MigrationParameter.STALL_ACTION) {
            int i = MigrationParameter.STALL_ACTIONS.indexOf(text.toLowerCase(Locale.ROOT));
            if (i >= 0) {
                return i;
            }
            throw new IllegalArgumentException("stall-action is one of " + String.join(", ", MigrationParameter.STALL_ACTIONS));
        }
        int shift = 0;
        String digits = text;
        if (p.unit().equals("bytes/s") && !text.isEmpty()) {
            shift = switch (Character.toUpperCase(text.charAt(text.length() - 1))) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> 0;
            };
            digits = shift == 0 ? text : text.substring(0, text.length() - 1).strip();
        }
        try {
            long n = Long.parseLong(digits);
            if (n > Long.MAX_VALUE >> shift) {
                throw new IllegalArgumentException("too large");
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a whole number" + (p.unit().isEmpty() ? "" : " of " + p.unit()));
        }
    }

    private static String names(Enum<?>[] values) {
        return String.join(", ", java.util.Arrays.stream(values).map(Object::toString).toList());
    }
}
