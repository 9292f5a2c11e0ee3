/**
 * VMs: create, run, stop and destroy guests from a {@link io.godwit.api.vm.VmSpec}.
 */
@Export
@Version("1.3.0")
package io.godwit.api.vm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
