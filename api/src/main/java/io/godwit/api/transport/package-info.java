/**
 * Transports: the SPI that turns a migration URI into byte channels, and nothing more; a transport
 * with remote memory writes also gives the coordinator one-sided writes into the destination's RAM
 * ({@link io.godwit.api.transport.RemoteMemoryChannel}, since 1.1); a seekable one (a file) reads
 * and writes at fixed offsets ({@link io.godwit.api.transport.SeekableChannel}, since 1.2).
 */
@Export
@Version("1.2.0")
package io.godwit.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
