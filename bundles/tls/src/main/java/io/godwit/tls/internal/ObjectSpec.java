package io.godwit.tls.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One {@code object_add} argument in QEMU's option syntax: {@code TYPE,key=value,...}, where a comma
 * inside a value is written twice ({@code identity=CN=a,,O=b} is {@code CN=a,O=b}), as QemuOpts reads it.
 */
record ObjectSpec(String type, String id, Map<String, String> properties) {

    static ObjectSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("object_add needs TYPE,id=ID[,key=value...]");
        }
        java.util.List<String> parts = split(text.strip());
        String type = parts.get(0);
        Map<String, String> props = new LinkedHashMap<>();
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("object_add: '" + part + "' is not key=value");
            }
            if (props.putIfAbsent(part.substring(0, eq), part.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("object_add: '" + part.substring(0, eq) + "' is given twice");
            }
        }
        String id = props.remove("id");
        if (id == null || !id.matches("[A-Za-z][A-Za-z0-9_.-]{0,63}")) {
            throw new IllegalArgumentException("object_add " + type + ": id must be a letter then letters, digits,"
                    + " '-', '.' or '_' (QEMU's rule), not " + (id == null ? "missing" : "'" + id + "'"));
        }
        return new ObjectSpec(type, id, props);
    }

    /** Splits at single commas; a doubled comma is a comma in the value. */
    private static java.util.List<String> split(String text) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        StringBuilder part = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',' && i + 1 < text.length() && text.charAt(i + 1) == ',') {
                part.append(',');
                i++;
            } else if (c == ',') {
                parts.add(part.toString());
                part.setLength(0);
            } else {
                part.append(c);
            }
        }
        parts.add(part.toString());
        return parts;
    }

    /** Refuses keys this type does not know, naming the ones it does. */
    void allowOnly(Set<String> keys) {
        for (String k : properties.keySet()) {
            if (!keys.contains(k) && !k.startsWith("rules.")) {
                throw new IllegalArgumentException(type + " '" + id + "': unknown property '" + k + "' (known: id, "
                        + String.join(", ", new java.util.TreeSet<>(keys)) + ")");
            }
        }
    }

    String get(String key, String fallback) {
        return properties.getOrDefault(key, fallback);
    }

    String require(String key) {
        String v = properties.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException(type + " '" + id + "': property '" + key + "' is required");
        }
        return v;
    }

    /** QEMU's booleans: on/off, yes/no, true/false. */
    boolean flag(String key, boolean fallback) {
        String v = properties.get(key);
        if (v == null) {
            return fallback;
        }
        return switch (v) {
            case "on", "yes", "true" -> true;
            case "off", "no", "false" -> false;
            default -> throw new IllegalArgumentException(type + " '" + id + "': " + key + " is on or off, not '" + v + "'");
        };
    }
}
