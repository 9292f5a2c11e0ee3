package io.godwit.api.migration;

import io.godwit.api.transport.TransportCapability;
import java.util.Set;

/**
 * One installed transport, for {@code info transports}.
 *
 * @param scheme the URI scheme it serves, for example {@code tcp}
 * @param bundle the bundle that provides it, {@code symbolic-name version} ("-" outside OSGi)
 * @param capabilities what it declares it can do (an address may offer less, as a pipe for fd)
 */
public record TransportInfo(String scheme, String bundle, Set<TransportCapability> capabilities) {

    public TransportInfo {
        capabilities = Set.copyOf(capabilities);
    }
}
