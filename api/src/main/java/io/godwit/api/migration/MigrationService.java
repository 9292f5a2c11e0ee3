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

    /**
     * QEMU's {@code -incoming URI} without a shape, as Cloud Hypervisor's receive-migration: listens on
     * {@code uri} at once and creates the VM {@code local.name()} from the source's hello (RAM, vCPUs,
     * CPU backend and workload, devices, UUID), in {@code inmigrate}, then loads the stream into it.
     * From {@code local} only the host's own choices are taken (dirty tracker, paused, mem-path,
     * prealloc); its memory, vCPUs, CPU, workload and devices are ignored. A device option that names a
     * resource of the source's host (a disk image: the factory's {@link
     * io.godwit.api.device.DeviceFactory#LOCAL_OPTIONS}, or any value with a '/') is never taken from
     * the stream: {@code deviceMap} gives it ({@code ID=VALUE} for a device's only such option,
     * {@code ID.OPTION=VALUE}), or the migration fails saying which to give. A hello that does not
     * describe a VM this host can make fails the migration before any VM exists. Until the hello,
     * {@link #info} and {@link #cancel} know the name.
     *
     * @throws IllegalArgumentException for an unknown scheme, or a name taken by a VM or another such wait
     * @throws IllegalStateException when the transport cannot listen
     * @since 1.3
     */
    default void incomingFromStream(io.godwit.api.vm.VmSpec local, java.util.Map<String, String> deviceMap,
            String uri) {
        throw new UnsupportedOperationException("this migration service cannot take a VM's shape from the stream");
    }

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

    /**
     * QEMU's {@code migrate-pause}, on either host: the channel of a postcopy in {@code postcopy-active}
     * or {@code postcopy-recover} is shut down, so both sides go to {@code postcopy-paused} and keep
     * everything, as when the network fails; {@link #recoverPostcopy} on the destination and
     * {@link #resumePostcopy} on the source go on from there.
     *
     * @throws IllegalStateException unless the VM's migration is in postcopy-active or postcopy-recover
     */
    void pausePostcopy(String vm);

    /** Leaves pre-switchover (with {@code pause-before-switchover}). */
    void continueMigration(String vm);

    void setCapability(String vm, MigrationCapability capability, boolean on);

    boolean capability(String vm, MigrationCapability capability);

    void setParameter(String vm, MigrationParameter parameter, long value);

    long parameter(String vm, MigrationParameter parameter);

    /**
     * Sets a text parameter ({@code tls-creds}, {@code tls-hostname}, {@code tls-authz}); empty unsets
     * it. The objects named are looked up when a migration starts, not here (as in QEMU).
     *
     * @throws IllegalStateException when a migration of the VM is running
     * @since 1.3
     */
    void setParameter(String vm, MigrationTextParameter parameter, String value);

    /** A text parameter's value; empty when unset. @since 1.3 */
    String parameter(String vm, MigrationTextParameter parameter);

    /**
     * The TLS session of the VM's current or last migration, for {@code info migrate}
     * ({@code TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=...}), or null when it ran without TLS.
     *
     * @since 1.3
     */
    String tls(String vm);

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
