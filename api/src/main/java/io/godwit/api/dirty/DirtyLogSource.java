package io.godwit.api.dirty;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Anything other than the CPU path that writes guest RAM: the VMM's DMA bitmap, each vhost log. One
 * sync merges the tracker and every source of the VM into the migration bitmap.
 *
 * <p>Sources register with the VM's {@link DirtyLogging}; all methods are called on the migration
 * thread.
 */
@ConsumerType
public interface DirtyLogSource {

    /** A name for {@code info dirty}, for example {@code dma} or {@code vhost-net0}. */
    String name();

    /** Starts logging with nothing dirty (VHOST_F_LOG_ALL on). */
    void startLogging();

    /** ORs every page written since the previous sync into {@code target} and clears the log. */
    long syncInto(DirtyBitmap target);

    /** Stops logging. */
    void stopLogging();
}
