/**
 * QMP, the QEMU Machine Protocol: the per-VM JSON servers that programs written for QEMU drive Godwit
 * through.
 */
@Export
@Version("1.0.0")
package io.godwit.api.qmp;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
