/**
 * Guest RAM: named {@link io.godwit.api.memory.RamBlock}s of 4 KiB pages and the three ways to reach them
 * (CPU path, DMA path, raw path).
 */
@Export
@Version("1.4.0")
package io.godwit.api.memory;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
