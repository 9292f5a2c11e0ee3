package io.godwit.virtio.net.internal;

import java.util.Map;
import java.util.Set;

/**
 * The options of {@code --device virtio-net,...}: {@code rx-rate} (packets per second from the tap's
 * generator, default 1000), {@code queue-size} (default 256), {@code mac}, {@code base} (guest
 * physical address of the queue; default the top of RAM) and the test-only {@code x-vhost-log=off},
 * a backend that ignores VHOST_F_LOG_ALL.
 */
record NetOptions(long rxRate, int queueSize, String mac, long base, boolean vhostLog) {

    private static final Set<String> KNOWN = Set.of("rx-rate", "queue-size", "mac", "base", "x-vhost-log");

    static NetOptions parse(Map<String, String> o) {
        for (String k : o.keySet()) {
            if (!KNOWN.contains(k)) {
                throw new IllegalArgumentException("unknown option '" + k + "' (known: rx-rate, queue-size, mac,"
                        + " base, x-vhost-log)");
            }
        }
        long rate = number(o, "rx-rate", 1000);
        if (rate < 0 || rate > 1_000_000) {
            throw new IllegalArgumentException("rx-rate must be 0 to 1000000 packets per second: " + rate);
        }
        String mac = o.getOrDefault("mac", "52:54:00:12:34:56").toLowerCase(java.util.Locale.ROOT);
        if (!mac.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
            throw new IllegalArgumentException("bad mac '" + mac + "'");
        }
        String log = o.getOrDefault("x-vhost-log", "on");
        if (!log.equals("on") && !log.equals("off")) {
            throw new IllegalArgumentException("x-vhost-log is on or off: " + log);
        }
        return new NetOptions(rate, (int) number(o, "queue-size", 256), mac, number(o, "base", -1), log.equals("on"));
    }

    private static long number(Map<String, String> o, String key, long dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return v.startsWith("0x") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not a number: " + v);
        }
    }
}
