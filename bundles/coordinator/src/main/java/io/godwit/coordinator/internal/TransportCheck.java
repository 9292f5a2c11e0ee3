package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.transport.TransportCapability;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What a migration and its transport need from each other, checked before anything starts: each
 * enabled migration capability that needs a transport capability the address does not offer, and each
 * offered transport capability that needs a migration capability that is off, refuses the migration,
 * with the reason and the way out.
 */
final class TransportCheck {

    /** Migration capability -> the transport capability it cannot work without. */
    private static final Map<MigrationCapability, TransportCapability> NEEDS = Map.of(
            MigrationCapability.RETURN_PATH, TransportCapability.BIDIRECTIONAL,
            MigrationCapability.MAPPED_RAM, TransportCapability.SEEKABLE,
            MigrationCapability.MULTIFD, TransportCapability.MULTI_CHANNEL);

    /** Transport capability -> the migration capability it cannot work without. */
    private static final Map<TransportCapability, MigrationCapability> NEEDED_BY = Map.of(
            // the destination's registration and the fences come back over the return path
            TransportCapability.REMOTE_MEMORY_WRITE, MigrationCapability.RETURN_PATH);

    private TransportCheck() {}

    /**
     * @param offered what the transport offers for this address
     * @throws IllegalArgumentException naming the first need that is not met
     */
    static void check(String uri, Predicate<MigrationCapability> enabled, Set<TransportCapability> offered) {
        for (MigrationCapability c : MigrationCapability.values()) {
            TransportCapability needed = NEEDS.get(c);
            if (c == MigrationCapability.MULTIFD && enabled.test(MigrationCapability.MAPPED_RAM)) {
                needed = TransportCapability.SEEKABLE; // its channels are threads writing into the file
            }
            if (needed != null && enabled.test(c) && !offered.contains(needed)) {
                throw new IllegalArgumentException("capability " + c + " needs a transport that is "
                        + describe(needed) + "; " + uri + " is not (migrate_set_capability " + c + " off)");
            }
        }
        for (TransportCapability t : TransportCapability.values()) {
            MigrationCapability needed = NEEDED_BY.get(t);
            if (needed != null && offered.contains(t) && !enabled.test(needed)) {
                throw new IllegalArgumentException("transport " + uri + " is " + describe(t) + ", which needs capability "
                        + needed + " (migrate_set_capability " + needed + " on)");
            }
        }
    }

    private static String describe(TransportCapability c) {
        return switch (c) {
            case BIDIRECTIONAL -> "two-way (a channel back from the destination)";
            case MULTI_CHANNEL -> "multi-channel";
            case SEEKABLE -> "seekable (a file:)";
            case REMOTE_MEMORY_WRITE -> "able to write remote memory";
        };
    }
}
