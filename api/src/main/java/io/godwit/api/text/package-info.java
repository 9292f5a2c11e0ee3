/**
 * Text from a guest or a peer host, made safe to show on an operator's terminal or in a log.
 */
@Export
@Version("1.0.0")
package io.godwit.api.text;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
