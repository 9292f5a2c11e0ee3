/**
 * The migration machine API that shell, monitor and tests use, with QEMU's states, capabilities,
 * parameters and counters.
 */
@Export
@Version("1.3.0")
package io.godwit.api.migration;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
