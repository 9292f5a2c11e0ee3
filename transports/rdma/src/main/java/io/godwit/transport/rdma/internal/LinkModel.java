package io.godwit.transport.rdma.internal;

import io.godwit.api.vm.ByteSize;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The simulated link under the one-sided writes: a bandwidth (bytes per second, 0 = as fast as memory
 * copies) and a one-way latency added to every completion. Both ends may set one; the link is the
 * slower of the two.
 */
record LinkModel(long bytesPerSecond, long latencyNanos) {

    static final LinkModel UNLIMITED = new LinkModel(0, 0);

    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ns|us|ms|s)");

    LinkModel {
        if (bytesPerSecond < 0 || latencyNanos < 0) {
            throw new IllegalArgumentException("rdma link bandwidth and latency must not be negative");
        }
    }

    /** The link both ends see: the lower bandwidth, the longer latency. */
    LinkModel combine(LinkModel other) {
        long bw = bytesPerSecond == 0 ? other.bytesPerSecond
                : other.bytesPerSecond == 0 ? bytesPerSecond : Math.min(bytesPerSecond, other.bytesPerSecond);
        return new LinkModel(bw, Math.max(latencyNanos, other.latencyNanos));
    }

    /** Applies one {@code bandwidth=SIZE} (per second, as QEMU's max-bandwidth) or {@code latency=N(ns|us|ms|s)}. */
    LinkModel with(String option) {
        int eq = option.indexOf('=');
        String key = eq < 0 ? option : option.substring(0, eq);
        String value = eq < 0 ? "" : option.substring(eq + 1);
        return switch (key) {
            case "bandwidth" -> new LinkModel(ByteSize.parse(value), latencyNanos);
            case "latency" -> new LinkModel(bytesPerSecond, parseDuration(value));
            default -> throw new IllegalArgumentException("unknown rdma option '" + key
                    + "': use bandwidth=SIZE (per second) or latency=N(ns|us|ms|s)");
        };
    }

    static long parseDuration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("rdma latency must be a number with ns, us, ms or s: '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ns" -> n;
            case "us" -> n * 1_000L;
            case "ms" -> n * 1_000_000L;
            default -> n * 1_000_000_000L;
        };
    }

    @Override
    public String toString() {
        return (bytesPerSecond == 0 ? "unlimited" : ByteSize.format(bytesPerSecond) + "/s") + ", latency "
                + latencyNanos / 1000 + " us";
    }
}
