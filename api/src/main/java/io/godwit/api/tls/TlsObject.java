package io.godwit.api.tls;

import java.util.Map;

/**
 * One object as {@code info objects} shows it.
 *
 * @param id its id
 * @param type {@code tls-creds-x509}, {@code authz-simple} or {@code authz-list}
 * @param properties what was set (dir, endpoint, verify-peer, identity, ...) and what was read (the
 *     certificates' subjects and validity); never key material
 */
public record TlsObject(String id, String type, Map<String, String> properties) {

    public TlsObject {
        properties = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(properties));
    }
}
