package io.godwit.api.memory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A destination's RAM during postcopy (QEMU's receivedmap with userfaultfd): the guest runs while some
 * pages have not arrived. Those are <em>missing</em>. Every path into guest RAM that acts for the guest
 * (the CPU path of both backends, the DMA path, a device's raw mapping through {@link #touch}) checks a
 * page before it reaches it; an access to a missing page is a fault: the first one asks the
 * {@link PageRequester} for the page, and every thread that touched it waits for that page only. This
 * is the EPT-not-present exit simulated in the memory path, the way PML is: no thread ever blocks in
 * a kernel page fault, so the JVM's safepoints are never held up by a fault (see docs/postcopy.md).
 *
 * <p>The migration places each page once, atomically with respect to the guest: no guest access
 * reaches a page until it is placed, and a page already present is never written again (the guest may
 * have written it since), so a store is never lost under an arriving copy.
 *
 * <p>Implemented by the kernel; thread safe. {@link #place}, {@link #placeRun} and {@link #placeZero} run on the
 * incoming migration's thread; faults on any thread that reaches guest RAM.
 */
@ProviderType
public interface PostcopyRam {

    /** Whether the page (a page number over all of RAM) has arrived or was valid when postcopy began. */
    boolean present(long page);

    /**
     * Places one page: copies {@code src} (one page) into RAM, then marks it present and wakes the
     * threads waiting for it. Does nothing and returns false when the page is present already.
     */
    boolean place(long page, MemorySegment src);

    /**
     * Places {@code count} consecutive pages from {@code first}, their bytes read from {@code source}
     * in page order: a missing page's bytes go straight into guest RAM, where no access reaches them
     * until the page is marked present (every path waits on a missing page, and only the placing
     * thread writes one); a page present already takes its bytes into a scratch page and is dropped,
     * as in {@link #place}. The pages read in become present together and their waiters wake once.
     * This is QEMU's UFFDIO_COPY of a whole run, without the staging copy {@link #place} makes.
     *
     * @return the pages placed (those not present before)
     * @throws IOException from {@code source}: pages whose bytes were not all read stay missing
     */
    long placeRun(long first, int count, PageSource source) throws IOException;

    /** As {@link #place}, with a page of zeros. */
    boolean placeZero(long page);

    /** Pages still missing. */
    long missing();

    /**
     * Waits until every page of {@code [gpa, gpa + len)} is present, asking for the missing ones: for a
     * device that reaches guest RAM through its own mapping (vhost's rx buffers) before it does.
     *
     * @throws GuestMemoryFault when postcopy was aborted: the missing pages will never come
     */
    void touch(long gpa, long len);

    /**
     * Ends postcopy once every page is present: the access paths return to their fast paths.
     *
     * @throws IllegalStateException while pages are missing
     */
    void end();

    /**
     * Gives up: the pages still missing will never arrive (the source is gone for good). Every waiting
     * and later faulting access fails with a {@link GuestMemoryFault}, so the guest stops with an error
     * instead of hanging.
     */
    void abort(String why);

    /** The figures of postcopy so far: requests, blocked time, fault latency. */
    PostcopyStats stats();
}
