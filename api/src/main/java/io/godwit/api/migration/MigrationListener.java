package io.godwit.api.migration;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives migration events (QEMU's MIGRATION and MIGRATION_PASS events) when the {@code events}
 * capability is on. A whiteboard service, tracked by the coordinator. Called on the migration
 * thread: return quickly and do not call back into the {@link MigrationService}.
 */
@ConsumerType
public interface MigrationListener {

    /** The migration of {@code vm} entered {@code status}; {@code timeMillis} is the host clock. */
    void statusChanged(String vm, MigrationStatus status, long timeMillis);

    /** A dirty bitmap sync began pass {@code pass}. */
    default void passStarted(String vm, long pass, long timeMillis) {}

    /**
     * Godwit's own: the precopy of {@code vm} stopped converging ({@code why} says how, with the dirty
     * rate, the bandwidth and what is left); the {@code stall-action} parameter says what happens next.
     */
    default void stalled(String vm, String why, long timeMillis) {}
}
