package org.example.godwit.shaped.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.transport.testkit.TransportContract;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The kit, as a third-party author runs it, plus the fault injector. */
class ShapedTransportTest extends TransportContract {

    private final ShapedTransport shaped = new ShapedTransport();

    @Override
    protected Transport transport() {
        return shaped;
    }

    @Override
    protected String scheme() {
        return "shaped";
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
    void theCutBreaksTheLinkAfterItsBytes() throws Exception {
        try (IncomingListener listener = shaped.listenIncoming("127.0.0.1:0");
                MigrationChannel source = shaped.connectOutgoing(address(listener) + ",cut=1M");
                MigrationChannel destination = listener.accept()) {
            source.write(ByteBuffer.allocateDirect(1 << 19));
            IOException e = assertThrows(IOException.class, () -> source.write(ByteBuffer.allocateDirect(1 << 20)));
            assertTrue(e.getMessage().endsWith("link cut after 1048576 bytes (fault injection)"), e.getMessage());
        }
    }

    @Test
    void aBadAddressSaysTheForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> shaped.connectOutgoing("127.0.0.1:1,speed=3"));
        assertEquals("shaped address must be HOST:PORT[,rate=BYTES_PER_SECOND][,cut=BYTES]: '127.0.0.1:1,speed=3'",
                e.getMessage());
    }

    @Test
    void aRateTooBigToCountIsRefusedNotTakenAsUnlimited() {
        for (String rate : new String[] {"99999999999G", "8589934592G", "9223372036854775808", "99999999999999999999K"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ShapedAddress.parse("127.0.0.1:1,rate=" + rate));
            assertTrue(e.getMessage().startsWith("shaped address must be"), e.getMessage());
        }
        assertEquals(8589934591L << 30, ShapedAddress.parse("127.0.0.1:1,rate=8589934591G").rate());
    }

    @Test
    void closeWakesAWriterWaitingForItsBytesToBeDue() throws Exception {
        try (IncomingListener listener = shaped.listenIncoming("127.0.0.1:0");
                MigrationChannel source = shaped.connectOutgoing(address(listener) + ",rate=1K");
                MigrationChannel destination = listener.accept()) {
            java.util.concurrent.FutureTask<Integer> writer =
                    new java.util.concurrent.FutureTask<>(() -> source.write(ByteBuffer.allocate(128 << 10)));
            Thread t = Thread.ofPlatform().name("test-shaped-writer").start(writer);
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (!pacing(t) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(pacing(t), "the writer waits for its first 64 KiB to be due (64 s at 1 KiB/s)");
            source.close();
            // Without the wake-up the writer would sleep its 64 s out; 30 s is a generous bound, not a timing.
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> writer.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IOException, e.toString());
            t.join();
        }
    }

    private static boolean pacing(Thread t) {
        for (StackTraceElement f : t.getStackTrace()) {
            if (f.getClassName().equals(ShapedChannel.class.getName()) && f.getMethodName().equals("pace")) {
                return t.getState() == Thread.State.TIMED_WAITING;
            }
        }
        return false;
    }

    @Test
    void aConnectThatNobodyAnswersTimesOut() throws Exception {
        // A listener whose accept queue is full drops further SYNs: the connect gets no answer.
        try (java.nio.channels.ServerSocketChannel full = java.nio.channels.ServerSocketChannel.open()) {
            full.bind(new java.net.InetSocketAddress("127.0.0.1", 0), 1);
            java.net.InetSocketAddress at = (java.net.InetSocketAddress) full.getLocalAddress();
            java.util.List<java.nio.channels.SocketChannel> fillers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open();
                    c.configureBlocking(false);
                    c.connect(at);
                    fillers.add(c);
                }
                ShapedTransport quick = new ShapedTransport(500);
                IOException e = assertThrows(IOException.class,
                        () -> quick.connectOutgoing("127.0.0.1:" + at.getPort()).close());
                assertTrue(e.getMessage().contains("timed out"), e.getMessage());
            } finally {
                for (java.nio.channels.SocketChannel c : fillers) {
                    c.close();
                }
            }
        }
    }
}
