package io.godwit.api.memory;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Asks the source for a missing page during postcopy (QEMU's MIG_RP_MSG_REQ_PAGES). Given to
 * {@link GuestMemory#startPostcopy} by the migration.
 *
 * <p>Called once per missing page, by the first thread that touched it (a vCPU, a device thread, the
 * DMA path), before that thread waits for the page. It must not wait for the page itself and must
 * not block for long: queue the request and return.
 */
@ConsumerType
public interface PageRequester {

    /** Asks for {@code page}, a page number over all of RAM. */
    void request(long page);
}
