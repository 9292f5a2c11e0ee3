package io.godwit.api.dirty;

import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A VM's dirty logging as a whole: its tracker plus every registered {@link DirtyLogSource},
 * harvested by one {@link #sync} (QEMU's {@code migration_bitmap_sync}). Implemented by the kernel.
 *
 * <p>{@link #start}, {@link #sync} and {@link #stop} are called by one thread at a time (the
 * migration thread); {@link #addSource} from any thread.
 */
@ProviderType
public interface DirtyLogging {

    /** Name of the VM's tracker. */
    String trackerName();

    /** Turns logging on in the tracker and every source, with every page clean. */
    void start() throws InterruptedException;

    /** True between {@link #start} and {@link #stop}. */
    boolean active();

    /**
     * Harvests the tracker and every source into {@code target} in one pass.
     *
     * @return the number of pages harvested, summed over the sources (a page reported by two
     *     sources counts twice)
     */
    long sync(DirtyBitmap target) throws InterruptedException;

    /** Turns logging off everywhere. */
    void stop();

    /** Registers a source; logging starts on it at once when logging is on. */
    AutoCloseable addSource(DirtyLogSource source);

    /** Names of the registered sources. */
    List<String> sources();

    /** The tracker's counters plus {@code sync-count} and {@code sync-time-ns}. */
    Map<String, Long> stats();
}
