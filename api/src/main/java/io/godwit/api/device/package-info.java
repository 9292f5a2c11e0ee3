/**
 * Devices: the SPI a device plugin implements, with lifecycle and versioned state.
 */
@Export
@Version("1.3.0")
package io.godwit.api.device;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
