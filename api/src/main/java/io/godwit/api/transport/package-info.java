/**
 * Transports: the SPI that turns a migration URI into byte channels, and nothing more.
 */
@Export
@Version("1.1.0")
package io.godwit.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
