package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.godwit.api.memory.PostcopyStats;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;

/**
 * {@code query-migrate}'s answer, QEMU's {@code MigrationInfo}: members QEMU would leave out are left
 * out (a time not known yet, an error that did not happen), and no migration at all is {@code {}} as in
 * QEMU. Godwit's own figures go under {@code x-godwit}, which QEMU's clients ignore.
 */
final class MigrateInfoJson {

    private MigrateInfoJson() {}

    static ObjectNode of(MigrationInfo info) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        MigrationStatus s = info.status();
        if (s == MigrationStatus.NONE) {
            return out;
        }
        out.put("status", s.qemuName());
        putKnown(out, "total-time", info.totalTimeMs());
        putKnown(out, "setup-time", info.setupTimeMs());
        // QEMU shows the downtime once it is known (completed, postcopy), the estimate before
        boolean downtimeKnown = s == MigrationStatus.COMPLETED || s.qemuName().startsWith("postcopy");
        putKnown(out, downtimeKnown ? "downtime" : "expected-downtime",
                downtimeKnown ? info.downtimeMs() : info.expectedDowntimeMs());
        if (info.ram().total() > 0) {
            out.set("ram", ram(info));
        }
        if (info.throttlePercent() > 0) {
            out.put("cpu-throttle-percentage", info.throttlePercent());
        }
        if (info.error() != null) {
            out.put("error-desc", info.error());
        }
        if (info.listenUri() != null) {
            socketAddress(info.listenUri(), out);
        }
        PostcopyStats p = info.postcopy();
        if (!p.vcpuBlocktimeMs().isEmpty()) { // the destination of a postcopy
            out.put("postcopy-blocktime", p.blocktimeMs());
            ArrayNode perVcpu = out.putArray("postcopy-vcpu-blocktime");
            p.vcpuBlocktimeMs().forEach(perVcpu::add);
        }
        if (info.xbzrle().cacheSize() > 0) {
            out.set("xbzrle-cache", xbzrle(info.xbzrle()));
        }
        out.set("x-godwit", godwit(info));
        return out;
    }

    /** QEMU's {@code XBZRLECacheStats}. */
    private static ObjectNode xbzrle(io.godwit.api.migration.MigrationInfo.XbzrleStats x) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("cache-size", x.cacheSize());
        o.put("bytes", x.bytes());
        o.put("pages", x.pages());
        o.put("cache-miss", x.cacheMiss());
        o.put("cache-miss-rate", x.cacheMissRate());
        o.put("encoding-rate", x.encodingRate());
        o.put("overflow", x.overflow());
        return o;
    }

    /**
     * QEMU's {@code socket-address} of an incoming migration, {@code [SocketAddress]}: where it listens,
     * with a port 0 resolved (QEMU's inet port is a string). Other schemes have no SocketAddress form.
     */
    private static void socketAddress(String uri, ObjectNode out) {
        if (uri.startsWith("unix:")) {
            out.putArray("socket-address").addObject().put("type", "unix").put("path", uri.substring("unix:".length()));
        } else if (uri.startsWith("tcp:") && uri.lastIndexOf(':') > "tcp:".length()) {
            int colon = uri.lastIndexOf(':');
            out.putArray("socket-address").addObject().put("type", "inet")
                    .put("host", uri.substring("tcp:".length(), colon)).put("port", uri.substring(colon + 1));
        }
    }

    private static void putKnown(ObjectNode out, String name, long value) {
        if (value >= 0) {
            out.put(name, value);
        }
    }

    private static ObjectNode ram(MigrationInfo info) {
        MigrationInfo.RamStats r = info.ram();
        ObjectNode ram = JsonNodeFactory.instance.objectNode()
                .put("transferred", r.transferred())
                .put("remaining", r.remaining())
                .put("total", r.total())
                .put("duplicate", r.duplicate())
                .put("normal", r.normal())
                .put("normal-bytes", r.normalBytes())
                .put("dirty-pages-rate", r.dirtyPagesRate())
                .put("mbps", r.mbps())
                .put("dirty-sync-count", r.dirtySyncCount())
                .put("pages-per-second", r.pagesPerSecond())
                .put("precopy-bytes", r.precopyBytes())
                .put("downtime-bytes", r.downtimeBytes())
                .put("postcopy-bytes", r.postcopyBytes())
                .put("page-size", r.pageSize());
        if (postcopyRan(info.postcopy())) {
            ram.put("postcopy-requests", info.postcopy().requests());
        }
        if (info.multifd().channels() > 0) {
            ram.put("multifd-bytes", info.multifd().bytes());
        }
        return ram;
    }

    private static boolean postcopyRan(PostcopyStats p) {
        return p.requests() > 0 || p.faults() > 0 || !p.vcpuBlocktimeMs().isEmpty();
    }

    private static ObjectNode godwit(MigrationInfo info) {
        ObjectNode g = JsonNodeFactory.instance.objectNode();
        putKnown(g, "observed-downtime", info.observedDowntimeMs());
        if (info.listenUri() != null) {
            g.put("listen-uri", info.listenUri());
        }
        if (info.stall() != null) {
            g.put("stall", info.stall());
        }
        MigrationInfo.MultifdInfo m = info.multifd();
        if (m.channels() > 0 && !m.compression().equals("none")) {
            g.put("multifd-compression", m.compression()).put("multifd-page-bytes", m.pageBytes())
                    .put("multifd-compressed-bytes", m.compressedBytes())
                    .put("multifd-compression-ratio", m.compressionRatio());
        }
        PostcopyStats p = info.postcopy();
        if (postcopyRan(p)) {
            g.put("postcopy-faults", p.faults()).put("postcopy-dropped", p.dropped());
            putKnown(g, "postcopy-latency-median-us", p.latencyMedianUs());
        }
        return g;
    }
}
