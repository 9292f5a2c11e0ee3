package org.example.godwit.shaped.internal;

import java.net.InetSocketAddress;

/**
 * {@code HOST:PORT[,rate=BYTES_PER_SECOND][,cut=BYTES]}: where to connect or listen, the source's
 * bandwidth cap (K/M/G suffixes, 0 = none) and, for fault injection, after how many written bytes the
 * source's connection breaks (0 = never).
 */
record ShapedAddress(String host, int port, long rate, long cut) {

    static ShapedAddress parse(String address) {
        String[] parts = address.split(",");
        int colon = parts[0].lastIndexOf(':');
        if (colon <= 0 || !parts[0].substring(colon + 1).matches("[0-9]{1,5}")) {
            throw bad(address);
        }
        int port = Integer.parseInt(parts[0].substring(colon + 1));
        long rate = 0;
        long cut = 0;
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            if (kv.length != 2) {
                throw bad(address);
            }
            switch (kv[0]) {
                case "rate" -> rate = size(kv[1], address);
                case "cut" -> cut = size(kv[1], address);
                default -> throw bad(address);
            }
        }
        if (port > 65535) {
            throw bad(address);
        }
        return new ShapedAddress(parts[0].substring(0, colon), port, rate, cut);
    }

    InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    private static long size(String text, String address) {
        if (!text.matches("[0-9]+[KMG]?")) {
            throw bad(address);
        }
        char unit = text.charAt(text.length() - 1);
        int shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        String digits = shift == 0 ? text : text.substring(0, text.length() - 1);
        if (digits.length() > 18 || Long.parseLong(digits) > Long.MAX_VALUE >> shift) {
            throw bad(address); // would overflow: a negative rate would mean no limit at all
        }
        return Long.parseLong(digits) << shift;
    }

    private static IllegalArgumentException bad(String address) {
        return new IllegalArgumentException(
                "shaped address must be HOST:PORT[,rate=BYTES_PER_SECOND][,cut=BYTES]: '" + address + "'");
    }
}
