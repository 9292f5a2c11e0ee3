/**
 * TLS for migration channels, as QEMU has it: credentials and authorization objects
 * ({@code object_add tls-creds-x509,...}, {@code authz-simple}, {@code authz-list}) and the channels
 * they secure.
 */
@Export
@Version("1.0.0")
package io.godwit.api.tls;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
