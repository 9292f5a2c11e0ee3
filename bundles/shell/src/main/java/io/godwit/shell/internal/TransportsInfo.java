package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.TransportInfo;
import io.godwit.api.transport.TransportCapability;
import java.util.Locale;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info transports}: each installed scheme, the bundle that provides it, its capabilities. */
@Component(service = InfoSubject.class)
public final class TransportsInfo implements InfoSubject {

    private final MigrationService migration;

    @Activate
    public TransportsInfo(@Reference MigrationService migration) {
        this.migration = migration;
    }

    @Override
    public String name() {
        return "transports";
    }

    @Override
    public String description() {
        return "info transports: the installed migration transports, their bundles and capabilities";
    }

    @Override
    public Object show(String... args) {
        if (args.length > 0) {
            throw new IllegalArgumentException("info transports takes no arguments");
        }
        Table table = new Table("scheme", "bundle", "capabilities");
        for (TransportInfo t : migration.transports()) {
            table.add(t.scheme(), t.bundle(), capabilities(t));
        }
        return table.toString();
    }

    /** QEMU-style lower-case names, sorted; "-" for a one-way, single-channel stream. */
    static String capabilities(TransportInfo t) {
        if (t.capabilities().isEmpty()) {
            return "-";
        }
        return t.capabilities().stream().sorted().map(TransportsInfo::name).collect(Collectors.joining(","));
    }

    private static String name(TransportCapability c) {
        return c.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
