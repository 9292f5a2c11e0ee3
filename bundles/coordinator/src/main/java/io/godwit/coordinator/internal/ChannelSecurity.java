package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.tls.TlsChannel;
import io.godwit.api.tls.TlsObject;
import io.godwit.api.tls.TlsService;
import io.godwit.api.transport.MigrationChannel;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TLS on a migration's channels, when its {@code tls-creds} parameter names an object of the tls
 * bundle's {@link TlsService}: the source is the TLS client, the destination the server, as in QEMU.
 * The objects and names are checked when the migration is asked for, so a missing object or name
 * fails the command at once; the handshakes happen on the migration threads.
 */
final class ChannelSecurity {

    /** A channel as the migration uses it: secured, or the plain one. */
    @FunctionalInterface
    interface Wrap {
        Wrap PLAIN = c -> c;

        MigrationChannel wrap(MigrationChannel plain) throws IOException;
    }

    /** {@code HOST:PORT[,options]} with HOST a name, an IPv4 literal or a bracketed IPv6 literal. */
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}(,.*)?");

    private volatile TlsService tls;

    void bind(TlsService service) {
        tls = service;
    }

    void unbind(TlsService service) {
        if (tls == service) {
            tls = null;
        }
    }

    /** The source's wrap: the TLS client, checking the destination's name (tls-hostname, else the URI's host). */
    Wrap outgoing(MigrationSettings settings, Uri uri) {
        String creds = settings.text(MigrationTextParameter.TLS_CREDS);
        if (creds.isEmpty()) {
            return Wrap.PLAIN;
        }
        TlsService service = service();
        requireCreds(service, creds, "client");
        String host = settings.text(MigrationTextParameter.TLS_HOSTNAME);
        if (host.isEmpty()) {
            host = hostOf(uri.address());
        }
        if (host == null) {
            throw new IllegalArgumentException("tls-creds is set and URI '" + uri.scheme() + ":" + uri.address()
                    + "' has no host name to check the destination's certificate against: set tls-hostname");
        }
        String name = host;
        return plain -> service.client(plain, creds, name);
    }

    /** The destination's wrap: the TLS server, with the tls-authz object's check of the client's identity. */
    Wrap incoming(MigrationSettings settings) {
        String creds = settings.text(MigrationTextParameter.TLS_CREDS);
        String authz = settings.text(MigrationTextParameter.TLS_AUTHZ);
        if (creds.isEmpty()) {
            if (!authz.isEmpty()) {
                throw new IllegalArgumentException("tls-authz is set without tls-creds: set tls-creds too");
            }
            return Wrap.PLAIN;
        }
        TlsService service = service();
        requireCreds(service, creds, "server");
        if (!authz.isEmpty() && service.objects().stream().noneMatch(o -> o.id().equals(authz) && o.type().startsWith("authz-"))) {
            throw new IllegalArgumentException("tls-authz: no authz-simple or authz-list object with id '" + authz + "'");
        }
        return plain -> service.server(plain, creds, authz.isEmpty() ? null : authz);
    }

    /** What {@code info migrate} shows of a channel's TLS session, or null for a plain channel. */
    static String describe(MigrationChannel channel) {
        return channel instanceof TlsChannel t ? t.describe() : null;
    }

    private TlsService service() {
        TlsService service = tls;
        if (service == null) {
            throw new IllegalArgumentException("tls-creds is set but the tls bundle (io.godwit.tls) is not running");
        }
        return service;
    }

    private static void requireCreds(TlsService service, String id, String endpoint) {
        TlsObject o = service.objects().stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("tls-creds: no object with id '" + id + "' (object_add tls-creds-x509,id="
                        + id + ",dir=DIR,endpoint=" + endpoint + ")"));
        if (!o.type().equals("tls-creds-x509") || !endpoint.equals(o.properties().get("endpoint"))) {
            throw new IllegalArgumentException("tls-creds: object '" + id + "' is not a tls-creds-x509 with endpoint="
                    + endpoint + ", which " + (endpoint.equals("client") ? "a source" : "a destination") + " needs");
        }
    }

    /** The host of a {@code HOST:PORT} address (tcp, rdma), or null for one without a host (unix, fd, exec). */
    static String hostOf(String address) {
        Matcher m = HOST_PORT.matcher(address);
        if (!m.matches()) {
            return null;
        }
        String host = m.group(1);
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }
}
