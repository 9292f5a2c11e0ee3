package io.godwit.api.tls;

import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The host's security objects (QEMU's user-creatable {@code tls-creds-x509}, {@code authz-simple} and
 * {@code authz-list}) and the TLS sessions made with them. Implemented by the tls bundle; the shell's
 * {@code object_add}, {@code object_del} and {@code info objects} call it, and the coordinator wraps a
 * migration's channels when its {@code tls-creds} parameter names an object. Thread safe.
 */
@ProviderType
public interface TlsService {

    /**
     * {@code object_add}: {@code TYPE,id=ID[,key=value...]} with QEMU's option syntax (a literal comma
     * in a value is written {@code ,,}). A {@code tls-creds-x509} object reads and checks its PEM files
     * now, so a missing or bad file fails here and not at the first migration.
     *
     * @return the new object's id
     * @throws IllegalArgumentException for an unknown type or key, a taken id, or unreadable files (one
     *     line, naming the file)
     */
    String add(String spec);

    /**
     * {@code object_del}. A channel already secured keeps its session.
     *
     * @throws IllegalArgumentException when no object has that id
     */
    void delete(String id);

    /** The objects, in the order they were added; never key material. */
    List<TlsObject> objects();

    /**
     * Secures a source's channel: the TLS handshake as the client, checking the destination's
     * certificate against the credentials' CA and {@code hostname}, then waits for the destination's
     * verdict on this side's certificate and identity. Blocks on the channel. On failure the plain
     * channel is closed and the exception's message says why in one line.
     *
     * @param credsId a {@code tls-creds-x509} object with {@code endpoint=client}
     * @param hostname the name the destination's certificate must carry (a DNS name or an IP literal)
     * @throws IllegalArgumentException when the object is missing or not a client credential
     * @throws IOException when the handshake fails
     */
    TlsChannel client(MigrationChannel plain, String credsId, String hostname) throws IOException;

    /**
     * Secures a destination's channel: the handshake as the server; with {@code verify-peer=on} the
     * client's certificate must chain to the credentials' CA, and with {@code authzId} its subject must
     * be allowed by that object. Blocks on the channel. On failure the peer is told (a TLS alert, or a
     * refusal message once the handshake completed), the plain channel is closed, and the message says
     * why in one line. A peer that sent no TLS at all ({@link TlsHandshakeException#plainPeer()}) is
     * left connected, for the caller to answer in the plain protocol it speaks and then close.
     *
     * @param credsId a {@code tls-creds-x509} object with {@code endpoint=server}
     * @param authzId an {@code authz-simple} or {@code authz-list} object, or null for none
     * @throws IllegalArgumentException when an object is missing or of the wrong kind
     * @throws IOException when the handshake fails
     */
    TlsChannel server(MigrationChannel plain, String credsId, String authzId) throws IOException;
}
