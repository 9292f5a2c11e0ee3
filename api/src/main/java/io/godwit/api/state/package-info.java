/**
 * Versioned state records shared by CPUs and devices: a small output/input pair so that state
 * authors need no protobuf.
 */
@Export
@Version("1.0.0")
package io.godwit.api.state;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
