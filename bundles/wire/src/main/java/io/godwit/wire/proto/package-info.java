/** Generated protobuf messages of the migration stream's headers (see migration.proto). */
@Export
@Version("1.1.0")
package io.godwit.wire.proto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
