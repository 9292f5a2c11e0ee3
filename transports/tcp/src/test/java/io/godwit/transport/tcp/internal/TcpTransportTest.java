package io.godwit.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.net.InetAddress;
import java.net.NetworkInterface;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpTransportTest extends TransportContract {

    private final TcpTransport tcp = new TcpTransport(2_000, TcpTransport.DEFAULT_BUFFER);

    @Override
    protected Transport transport() {
        return tcp;
    }

    @Override
    protected String scheme() {
        return "tcp";
    }

    @Override
    protected String listenAddress() {
        return "127.0.0.1:0";
    }

    @Override
    protected String deadAddress() {
        return "127.0.0.1:1";
    }

    @Test
    void port0ListensOnAFreePortAndReportsIt() throws IOException {
        try (IncomingListener a = tcp.listenIncoming("127.0.0.1:0");
                IncomingListener b = tcp.listenIncoming("127.0.0.1:0")) {
            assertTrue(a.uri().matches("tcp:127\\.0\\.0\\.1:[1-9][0-9]*"), a.uri());
            assertNotEquals(a.uri(), b.uri());
        }
    }

    @Test
    void localhostWorks() throws IOException {
        try (IncomingListener listener = tcp.listenIncoming("localhost:0");
                MigrationChannel source = tcp.connectOutgoing("localhost:" + port(listener));
                MigrationChannel destination = listener.accept()) {
            assertEquals("tcp:localhost:" + port(listener), source.name());
            assertTrue(destination.name().startsWith(listener.uri() + " from "), destination.name());
        }
    }

    @Test
    void ipv6LoopbackInBrackets() throws IOException {
        assumeTrue(NetworkInterface.getByInetAddress(InetAddress.ofLiteral("::1")) != null, "no IPv6 loopback");
        try (IncomingListener listener = tcp.listenIncoming("[::1]:0");
                MigrationChannel source = tcp.connectOutgoing(address(listener));
                MigrationChannel destination = listener.accept()) {
            assertTrue(listener.uri().matches("tcp:\\[0:0:0:0:0:0:0:1\\]:[1-9][0-9]*"), listener.uri());
            assertEquals(listener.uri(), source.name());
            send(source, "six");
            assertEquals("six", receive(destination, 3));
        }
    }

    @Test
    void refusedConnectionSaysSoInOneLine() {
        IOException e = assertThrows(IOException.class, () -> tcp.connectOutgoing("127.0.0.1:1"));
        assertInstanceOf(ConnectException.class, e);
        assertEquals("tcp:127.0.0.1:1: connection refused", e.getMessage());
    }

    @Test
    void anUnansweredConnectGivesUpAtTheTimeout() throws IOException {
        TcpTransport quick = new TcpTransport(300, 0);
        // a listener whose accept queue is full drops new SYNs: the connect hears nothing back
        try (ServerSocketChannel full = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0), 1)) {
            String address = "127.0.0.1:" + ((InetSocketAddress) full.getLocalAddress()).getPort();
            List<MigrationChannel> queued = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    long start = System.nanoTime();
                    try {
                        queued.add(quick.connectOutgoing(address));
                    } catch (SocketTimeoutException e) {
                        long ms = (System.nanoTime() - start) / 1_000_000;
                        assertTrue(ms >= 250 && ms < 2_000, ms + " ms");
                        assertEquals("tcp:" + address + ": connect timed out", e.getMessage());
                        return;
                    }
                }
                fail("the accept queue never filled: " + queued.size() + " connections");
            } finally {
                for (MigrationChannel c : queued) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aTakenPortIsReported() throws IOException {
        try (IncomingListener listener = tcp.listenIncoming("127.0.0.1:0")) {
            IOException e = assertThrows(IOException.class, () -> tcp.listenIncoming(address(listener)));
            assertTrue(e.getMessage().startsWith(listener.uri() + ": "), e.getMessage());
        }
    }

    @Test
    void largeSocketBuffersWork() throws Exception {
        TcpTransport big = new TcpTransport(2_000, 4 << 20);
        try (IncomingListener listener = big.listenIncoming("127.0.0.1:0");
                MigrationChannel source = big.connectOutgoing(address(listener));
                MigrationChannel destination = listener.accept()) {
            send(source, "big");
            assertEquals("big", receive(destination, 3));
        }
    }

    @Test
    void port0CannotBeConnectedTo() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> tcp.connectOutgoing("127.0.0.1:0"));
        assertEquals("tcp port 0 can only be listened on: '127.0.0.1:0'", e.getMessage());
    }

    @Test
    void aBadAddressIsNamedInTheMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tcp.connectOutgoing("foo"));
        assertEquals("tcp address must be HOST:PORT: 'foo'", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "foo", "127.0.0.1", "127.0.0.1:", ":4444", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:http", "127.0.0.1:123456", "::1:4444", "[::1]", "[::1]:", "[1.2.3.4]:80", "[zz::1]:80",
        "a b:80", "-host:80", "tcp:127.0.0.1:80"})
    void badAddressesAreRefusedOnBothSides(String address) {
        for (Executable attempt : new Executable[] {
            () -> tcp.connectOutgoing(address), () -> tcp.listenIncoming(address)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, attempt);
            assertTrue(e.getMessage().startsWith("tcp "), e.getMessage());
            assertTrue(e.getMessage().endsWith("'" + address + "'"), e.getMessage());
        }
    }

    private static String port(IncomingListener listener) {
        return listener.uri().substring(listener.uri().lastIndexOf(':') + 1);
    }
}
