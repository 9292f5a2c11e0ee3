package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.migration.MigrationTextParameter;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A VM's capabilities and parameters: what the user set for it, over the host's defaults
 * ({@link MigrationDefaults}, which {@code etc/io.godwit.migration.cfg} may change at any time).
 * Parameters are read live by a running migration, so that raising {@code max-bandwidth} or
 * {@code downtime-limit} mid-migration takes effect at once, as in QEMU. The defaults are pinned
 * when a migration starts: a changed file applies to the next migration, never to one under way
 * (whose capabilities must not change under it).
 */
final class MigrationSettings {

    private final Supplier<MigrationDefaults> defaults;
    private final Map<MigrationCapability, Boolean> capabilities = new EnumMap<>(MigrationCapability.class);
    private final Map<MigrationParameter, Long> parameters = new EnumMap<>(MigrationParameter.class);
    /** The defaults of the migration under way, while {@link #migration} is not final. */
    private MigrationDefaults pinned;
    private Supplier<MigrationStatus> migration;
    /** The parameters the user set, default or not. */
    private final java.util.Set<MigrationParameter> set = java.util.EnumSet.noneOf(MigrationParameter.class);
    private final Map<MigrationTextParameter, String> texts = new EnumMap<>(MigrationTextParameter.class);

    /** With the built-in defaults only. */
    MigrationSettings() {
        this(() -> MigrationDefaults.BUILT_IN);
    }

    MigrationSettings(Supplier<MigrationDefaults> defaults) {
        this.defaults = defaults;
    }

    /** A migration starts: until it ends ({@code status} final) it uses the defaults of now. */
    synchronized void pin(Supplier<MigrationStatus> status) {
        pinned = defaults.get();
        migration = status;
    }

    /** The migration's status is a volatile read: no lock of the migration's is taken here. */
    private synchronized MigrationDefaults base() {
        if (pinned != null && !migration.get().isFinal()) {
            return pinned;
        }
        return defaults.get();
    }

    synchronized boolean capability(MigrationCapability c) {
        Boolean set = capabilities.get(c);
        return set != null ? set : base().capability(c);
    }

    synchronized void setCapability(MigrationCapability c, boolean on) {
        capabilities.put(c, on);
    }

    /**
     * Whether the user chose {@code c}: set with migrate_set_capability (either way), or given a value
     * other than the built-in one in etc/io.godwit.migration.cfg.
     */
    synchronized boolean isSet(MigrationCapability c) {
        return capabilities.containsKey(c) || base().capability(c) != MigrationDefaults.BUILT_IN.capability(c);
    }

    synchronized long parameter(MigrationParameter p) {
        Long set = parameters.get(p);
        return set != null ? set : base().parameter(p);
    }

    synchronized void setParameter(MigrationParameter p, long value) {
        parameters.put(p, p.check(value));
        set.add(p);
    }

    /**
     * Whether the user chose {@code p}: set with migrate_set_parameter (to any value, its default
     * included), or given a value other than the built-in one in etc/io.godwit.migration.cfg.
     */
    synchronized boolean isSet(MigrationParameter p) {
        return set.contains(p) || base().parameter(p) != MigrationDefaults.BUILT_IN.parameter(p);
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
        return java.util.Arrays.stream(MigrationCapability.values()).filter(this::capability)
                .map(MigrationCapability::qemuName).toList();
    }
}
