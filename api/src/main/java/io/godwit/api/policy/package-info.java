/**
 * Convergence policies: when to switch over and when to throttle, as a plugin.
 */
@Export
@Version("1.0.0")
package io.godwit.api.policy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
