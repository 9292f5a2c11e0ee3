/**
 * Dirty logging: the {@link io.godwit.api.dirty.DirtyBitmap}, trackers that log CPU stores, and the other
 * sources (DMA, vhost logs) that one sync merges.
 */
@Export
@Version("1.1.0")
package io.godwit.api.dirty;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
