/**
 * CPU backends: the SPI a backend implements to run guest code on vCPU threads the kernel owns.
 */
@Export
@Version("1.2.0")
package io.godwit.api.cpu;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
