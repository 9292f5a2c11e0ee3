package io.godwit.transport.tcp.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * The address part of a tcp URI: {@code HOST:PORT}, where HOST is an IPv4 literal, a host name such
 * as {@code localhost}, or an IPv6 literal in brackets ({@code [::1]:4444}).
 */
record TcpAddress(String host, int port) {

    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    static TcpAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw bad("tcp address must be HOST:PORT", address);
        }
        String host = address.substring(0, colon);
        String port = address.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (!host.contains(":")) {
                throw bad("tcp address has no IPv6 literal in brackets", address);
            }
            try {
                InetAddress.ofLiteral(host);
            } catch (IllegalArgumentException e) {
                throw bad("tcp address has a bad IPv6 literal", address);
            }
        } else if (host.contains(":")) {
            throw bad("tcp address needs brackets around an IPv6 host, as in [::1]:4444", address);
        } else if (!HOST_NAME.matcher(host).matches()) {
            throw bad("tcp address must be HOST:PORT", address);
        }
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) > 65535) {
            throw bad("tcp port must be a number from 0 to 65535", address);
        }
        return new TcpAddress(host, Integer.parseInt(port));
    }

    /** Resolves the host; a host name may take a DNS lookup. */
    InetSocketAddress resolve() throws UnknownHostException {
        InetAddress ip = host.contains(":") ? InetAddress.ofLiteral(host) : InetAddress.getByName(host);
        return new InetSocketAddress(ip, port);
    }

    /** The URI of a socket address, round-trippable through {@link #parse}: {@code tcp:[::1]:4444}. */
    static String uri(InetSocketAddress address) {
        String ip = address.getAddress().getHostAddress();
        return "tcp:" + (address.getAddress() instanceof Inet6Address ? "[" + ip + "]" : ip) + ":" + address.getPort();
    }

    @Override
    public String toString() {
        return "tcp:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static IllegalArgumentException bad(String problem, String address) {
        return new IllegalArgumentException(problem + ": '" + address + "'");
    }
}
