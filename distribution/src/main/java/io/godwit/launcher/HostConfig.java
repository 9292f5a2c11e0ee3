package io.godwit.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The framework properties: {@code conf/config.properties}, overridden by JVM system properties of
 * the same families (so {@code JAVA_OPTS=-Dfelix.fileinstall.poll=100} works without editing the
 * file), with {@code ${name}} resolved against the file itself, the launcher's built-in variables
 * ({@code godwit.home}, {@code godwit.pid}, {@code godwit.run}) and system properties.
 */
public final class HostConfig {

    /** System properties with these prefixes are framework properties too (Felix's Main does the same). */
    private static final String[] OVERRIDABLE = {"org.osgi.", "felix.", "godwit.", "gosh.", "ds.", "org.slf4j."};

    private HostConfig() {
    }

    /** Reads and resolves the file; a missing or broken file is an error, not a silent default. */
    public static Map<String, String> load(Path file, Map<String, String> builtins, Properties system)
            throws IOException {
        Properties raw = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            raw.load(reader);
        }
        Map<String, String> merged = new TreeMap<>();
        raw.stringPropertyNames().forEach(k -> merged.put(k, raw.getProperty(k)));
        system.stringPropertyNames().stream()
                .filter(HostConfig::overridable)
                .forEach(k -> merged.put(k, system.getProperty(k)));
        merged.putAll(builtins);
        try {
            return resolve(merged, system);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Resolves every {@code ${name}} in the values; an unknown name or a cycle is an error. */
    static Map<String, String> resolve(Map<String, String> values, Properties system) {
        Map<String, String> resolved = new LinkedHashMap<>();
        for (String key : values.keySet()) {
            resolved.put(key, substitute(key, values, system, new ArrayDeque<>()));
        }
        return resolved;
    }

    private static String substitute(String key, Map<String, String> values, Properties system,
                                     Deque<String> visiting) {
        if (visiting.contains(key)) {
            throw new IllegalArgumentException("${" + key + "} refers to itself via " + visiting);
        }
        String value = values.containsKey(key) ? values.get(key) : system.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("undefined variable ${" + key + "}"
                    + (visiting.isEmpty() ? "" : " in " + visiting.peek()));
        }
        visiting.push(key);
        StringBuilder out = new StringBuilder();
        int from = 0;
        int start;
        while ((start = value.indexOf("${", from)) >= 0) {
            int end = value.indexOf('}', start + 2);
            if (end < 0) {
                throw new IllegalArgumentException("unclosed ${ in " + key);
            }
            out.append(value, from, start)
                    .append(substitute(value.substring(start + 2, end), values, system, visiting));
            from = end + 1;
        }
        visiting.pop();
        return out.append(value.substring(from)).toString();
    }

    private static boolean overridable(String key) {
        for (String prefix : OVERRIDABLE) {
            if (key.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
