package io.godwit.api.memory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Where the bytes of arriving pages come from when postcopy places them straight into guest RAM
 * ({@link PostcopyRam#placeRun}): the migration stream's reader.
 *
 * <p>Called on the thread that called {@code placeRun} (the incoming migration's), once per stretch of
 * pages, in page order, with exactly the bytes of that stretch to fill.
 */
@ConsumerType
@FunctionalInterface
public interface PageSource {

    /** Fills {@code pages} (a whole number of pages) with the next bytes of the stream. */
    void read(MemorySegment pages) throws IOException;
}
