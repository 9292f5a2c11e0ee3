/**
 * The a-b oracle of QEMU's migration guest, for every backend that runs it.
 */
@Export
@Version("1.0.0")
package io.godwit.cpu.synthetic.ab;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
