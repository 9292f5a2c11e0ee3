package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationTextParameter;
import java.util.EnumMap;
import java.util.Map;

/**
 * A VM's capabilities and parameters. Parameters are read live by a running migration, so that
 * raising {@code max-bandwidth} or {@code downtime-limit} mid-migration takes effect at once, as in
 * QEMU.
 */
final class MigrationSettings {

    private final Map<MigrationCapability, Boolean> capabilities = new EnumMap<>(MigrationCapability.class);
    private final Map<MigrationParameter, Long> parameters = new EnumMap<>(MigrationParameter.class);
    private final Map<MigrationTextParameter, String> texts = new EnumMap<>(MigrationTextParameter.class);

    MigrationSettings() {
        for (MigrationCapability c : MigrationCapability.values()) {
            capabilities.put(c, c.defaultValue());
        }
        for (MigrationParameter p : MigrationParameter.values()) {
            parameters.put(p, p.defaultValue());
        }
    }

    synchronized boolean capability(MigrationCapability c) {
        return capabilities.get(c);
    }

    synchronized void setCapability(MigrationCapability c, boolean on) {
        capabilities.put(c, on);
    }

    synchronized long parameter(MigrationParameter p) {
        return parameters.get(p);
    }

    synchronized void setParameter(MigrationParameter p, long value) {
        parameters.put(p, p.check(value));
    }

    /** A text parameter; empty when unset. */
    synchronized String text(MigrationTextParameter p) {
        return texts.getOrDefault(p, "");
    }

    synchronized void setText(MigrationTextParameter p, String value) {
        texts.put(p, value == null ? "" : value.strip());
    }

    /** The enabled capabilities' QEMU names, for the stream's hello. */
    synchronized java.util.List<String> enabledCapabilities() {
        return capabilities.entrySet().stream().filter(Map.Entry::getValue).map(e -> e.getKey().qemuName()).toList();
    }
}
