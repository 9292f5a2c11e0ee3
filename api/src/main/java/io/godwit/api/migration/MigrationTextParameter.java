package io.godwit.api.migration;

import java.util.Arrays;
import java.util.Optional;

/** Migration parameters whose value is text, by QEMU's names; empty means unset. */
public enum MigrationTextParameter {
    /**
     * The id of a {@code tls-creds-x509} object: TLS on every channel of the migration, as the client
     * (endpoint=client) on the source and the server (endpoint=server) on the destination.
     */
    TLS_CREDS("tls-creds"),
    /**
     * The name the destination's certificate must carry; empty means the host of the URI (tcp, rdma).
     * Needed for URIs without one (unix, fd, exec).
     */
    TLS_HOSTNAME("tls-hostname"),
    /**
     * On the destination, the id of an {@code authz-simple} or {@code authz-list} object that the
     * client certificate's subject must pass; empty means any certificate the CA signed.
     */
    TLS_AUTHZ("tls-authz");

    private final String qemuName;

    MigrationTextParameter(String qemuName) {
        this.qemuName = qemuName;
    }

    public String qemuName() {
        return qemuName;
    }

    /** The parameter with this QEMU name. */
    public static Optional<MigrationTextParameter> byName(String name) {
        return Arrays.stream(values()).filter(p -> p.qemuName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return qemuName;
    }
}
