/**
 * The migration stream: stream header, frames, RAM batches written straight from guest memory, and
 * the state encoding behind {@code StateOutput}/{@code StateInput}. Readers treat every byte as
 * hostile: bounded lengths and counts, known types, a {@link io.godwit.wire.WireException} otherwise.
 */
@Export
@Version("1.2.0")
package io.godwit.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
