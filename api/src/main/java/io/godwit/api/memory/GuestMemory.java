package io.godwit.api.memory;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A VM's guest RAM: its {@link RamBlock}s, laid out one after another from guest physical address 0.
 *
 * <p>Implemented by the kernel. There are three ways in:
 * <ul>
 *   <li>the CPU path, {@link CpuMemory}: guest stores, seen by the active dirty tracker;</li>
 *   <li>the DMA path, {@link #dmaWrite}: emulated devices, which mark the VMM's own dirty bitmap;</li>
 *   <li>the raw path, {@link RamBlock#raw()}: migration and oracles, with no tracking.</li>
 * </ul>
 * Every method is thread safe and none blocks.
 */
@ProviderType
public interface GuestMemory {

    /** The blocks in guest physical address order. */
    List<RamBlock> blocks();

    /** The block with this id string, if any. */
    Optional<RamBlock> block(String name);

    /** Total RAM in bytes over every block. */
    long size();

    /** Total RAM in pages; also the size of a dirty bitmap for this VM. */
    default long pages() {
        return size() >>> RamBlock.PAGE_SHIFT;
    }

    /**
     * The block that holds a guest physical address.
     *
     * @throws GuestMemoryFault if no block holds it
     */
    RamBlock blockAt(long gpa);

    /**
     * The DMA path: copies {@code src} into guest RAM at {@code gpa} and marks every page it touches
     * in the VMM's DMA dirty log while logging is on.
     *
     * @throws GuestMemoryFault if the range is not inside one block
     */
    void dmaWrite(long gpa, MemorySegment src);

    /**
     * Copies guest RAM at {@code gpa} into {@code dst}.
     *
     * @throws GuestMemoryFault if the range is not inside one block
     */
    void dmaRead(long gpa, MemorySegment dst);

    /**
     * Whether the VMM has written RAM through {@link #dmaWrite} since it was mapped (a program image
     * loaded at creation, a device's rings). A destination whose RAM is anonymous and never written
     * knows every page it did not receive is zero; one that was written must check.
     */
    default boolean vmmWritten() {
        return true;
    }

    /** Ranges the guest handed to devices, in the order they were reserved. */
    default List<MemoryReservation> reservations() {
        return List.of();
    }

    /**
     * Starts postcopy on a destination whose guest has not run yet: the pages set in {@code missing}
     * (page numbers over all of RAM) have not arrived; every other page is valid. From now on an access
     * to a missing page faults (see {@link PostcopyRam}).
     *
     * @throws IllegalStateException when postcopy is already on
     * @throws UnsupportedOperationException when this memory cannot do postcopy
     */
    default PostcopyRam startPostcopy(io.godwit.api.dirty.DirtyBitmap missing, PageRequester requester) {
        throw new UnsupportedOperationException("this memory cannot do postcopy");
    }

    /** The postcopy in progress on this memory, or null. */
    default PostcopyRam postcopy() {
        return null;
    }
}
