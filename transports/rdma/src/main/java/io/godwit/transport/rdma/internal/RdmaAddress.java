package io.godwit.transport.rdma.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * The address part of an rdma URI: {@code HOST:PORT} of the control channel (as tcp: an IPv4
 * literal, a host name, or an IPv6 literal in brackets), then optional link model settings,
 * {@code ,bandwidth=SIZE} (per second) and {@code ,latency=N(ns|us|ms|s)}.
 */
record RdmaAddress(String host, int port, LinkModel link) {

    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    static RdmaAddress parse(String address) {
        String[] parts = address.split(",", -1);
        LinkModel link = LinkModel.UNLIMITED;
        for (int i = 1; i < parts.length; i++) {
            link = link.with(parts[i]);
        }
        String hostPort = parts[0];
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw bad("rdma address must be HOST:PORT", address);
        }
        String host = hostPort.substring(0, colon);
        String port = hostPort.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            try {
                InetAddress.ofLiteral(host);
            } catch (IllegalArgumentException e) {
                throw bad("rdma address has a bad IPv6 literal", address);
            }
        } else if (!HOST_NAME.matcher(host).matches()) {
            throw bad("rdma address must be HOST:PORT", address);
        }
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) > 65535) {
            throw bad("rdma port must be a number from 0 to 65535", address);
        }
        return new RdmaAddress(host, Integer.parseInt(port), link);
    }

    InetSocketAddress resolve() throws UnknownHostException {
        InetAddress ip = host.contains(":") ? InetAddress.ofLiteral(host) : InetAddress.getByName(host);
        return new InetSocketAddress(ip, port);
    }

    static String uri(InetSocketAddress address) {
        String ip = address.getAddress().getHostAddress();
        return "rdma:" + (address.getAddress() instanceof Inet6Address ? "[" + ip + "]" : ip) + ":" + address.getPort();
    }

    @Override
    public String toString() {
        return "rdma:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static IllegalArgumentException bad(String problem, String address) {
        return new IllegalArgumentException(problem + ": '" + address + "'");
    }
}
