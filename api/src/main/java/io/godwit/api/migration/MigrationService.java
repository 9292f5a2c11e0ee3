package io.godwit.api.migration;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The one machine API of migration, implemented by the coordinator; the shell, the monitor and tests
 * all go through it. Methods return at once: the work runs on the VM's migration threads
 * ({@code mig-<vm>-out}, {@code mig-<vm>-in}) and its progress is read with {@link #info}.
 *
 * <p>Capabilities and parameters are per VM and apply to the next migration.
 */
@ProviderType
public interface MigrationService {

    /**
     * Starts migrating a running VM to {@code uri} ({@code scheme:address}).
     *
     * @throws IllegalArgumentException for an unknown VM or scheme, or an address that does not parse
     * @throws IllegalStateException when a migration of the VM is already running
     */
    void migrate(String vm, String uri);

    /**
     * Makes a VM created with {@code --incoming defer} wait for a source on {@code uri}.
     *
     * @throws IllegalArgumentException for an unknown VM or scheme
     * @throws IllegalStateException when the VM is not waiting for an incoming migration
     */
    void incoming(String vm, String uri);

    /** Cancels the VM's migration; the source VM keeps running. Does nothing when none runs. */
    void cancel(String vm);

    /**
     * QEMU's {@code migrate_start_postcopy}: the running precopy switches to postcopy at its next batch.
     *
     * @throws IllegalStateException without {@link MigrationCapability#POSTCOPY_RAM}, or when no
     *     outgoing precopy of the VM is active
     */
    void startPostcopy(String vm);

    /**
     * QEMU's {@code migrate_recover}, on the destination: a postcopy in {@code postcopy-paused} waits
     * for the source on a new {@code uri}.
     *
     * @throws IllegalStateException unless the VM's incoming postcopy is paused
     */
    void recoverPostcopy(String vm, String uri);

    /**
     * QEMU's {@code migrate -r} ({@code resume=true}), on the source: a postcopy in
     * {@code postcopy-paused} connects to the destination again at {@code uri} (where
     * {@code migrate_recover} listens) and sends the pages the destination still misses.
     *
     * @throws IllegalStateException unless the VM's outgoing postcopy is paused
     */
    void resumePostcopy(String vm, String uri);

    /** Leaves pre-switchover (with {@code pause-before-switchover}). */
    void continueMigration(String vm);

    void setCapability(String vm, MigrationCapability capability, boolean on);

    boolean capability(String vm, MigrationCapability capability);

    void setParameter(String vm, MigrationParameter parameter, long value);

    long parameter(String vm, MigrationParameter parameter);

    /** The VM's migration as it is now. */
    MigrationInfo info(String vm);

    /**
     * The VM's current or last outgoing migration pass by pass, as recorded at each sync, and its
     * switchover ({@link MigrationHistory#NONE} when it has none: never migrated, or a destination).
     *
     * @throws IllegalArgumentException for an unknown VM
     */
    MigrationHistory history(String vm);

    /** The transports installed now, by scheme: what {@code migrate} and {@code migrate_incoming} accept. */
    java.util.List<TransportInfo> transports();
}
