package io.godwit.api.tls;

import io.godwit.api.transport.MigrationChannel;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A migration channel after a completed TLS handshake: everything written is encrypted into the plain
 * channel underneath. Keeps {@link MigrationChannel}'s contract (one reader and one writer thread,
 * {@code close} from any thread). When the plain channel was a
 * {@link io.godwit.api.transport.RemoteMemoryChannel}, so is this one: its remote writes are the
 * plain channel's, not encrypted.
 */
@ProviderType
public interface TlsChannel extends MigrationChannel {

    /** The negotiated protocol, for example {@code TLSv1.3}. */
    String protocol();

    /** The negotiated cipher suite, for example {@code TLS_AES_256_GCM_SHA384}. */
    String cipherSuite();

    /** The peer certificate's subject (RFC 2253), or null when the peer sent none. */
    String peerSubject();

    /** {@code TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=...}: for {@code info migrate}. */
    default String describe() {
        return protocol() + " " + cipherSuite() + (peerSubject() == null ? "" : ", peer " + peerSubject());
    }
}
