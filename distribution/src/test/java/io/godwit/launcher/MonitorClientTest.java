package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client against a real unix socket server that speaks the monitor protocol like the shell. */
@Timeout(20)
class MonitorClientTest {

    /** What a test server does with one connection: it gets the request line and the output. */
    interface Handler {
        void handle(String request, OutputStream out) throws Exception;
    }

    private Path dir;
    private MonitorAddress address;
    private ServerSocketChannel server;
    private Thread serverThread;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final CompletableFuture<String> received = new CompletableFuture<>();

    @BeforeEach
    void setUp() throws Exception {
        // Unix socket paths are limited to ~108 bytes; a deep build directory could exceed that.
        dir = Files.createTempDirectory(Path.of(System.getProperty("os.name").startsWith("Windows") ? "." : "/tmp"), "gw-mc");
        address = MonitorAddress.parse("unix:" + dir.resolve("m.sock"), "--connect");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
            serverThread.join(5000);
        }
        HostHome.deleteTree(dir);
    }

    /** Serves exactly one connection with {@code handler}, on a named thread like the real monitor. */
    private void serve(Handler handler) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(address.socketAddress());
        serverThread = new Thread(() -> {
            try (SocketChannel channel = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
                String request = in.readLine();
                received.complete(request);
                handler.handle(request, Channels.newOutputStream(channel));
            } catch (Exception e) {
                received.completeExceptionally(e);
            }
        }, "test-monitor");
        serverThread.start();
    }

    private int runClient(String script) {
        return new MonitorClient(new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8)).run(address, script);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void relaysOutAndErrFramesAndReturnsTheExitStatus() throws Exception {
        serve((request, out) -> {
            MonitorFrames.write(out, MonitorFrames.OUT, utf8("status: running\n"));
            MonitorFrames.write(out, MonitorFrames.ERR, utf8("warning: slow\n"));
            MonitorFrames.write(out, MonitorFrames.OUT, utf8("µ done\n"));
            MonitorFrames.writeExit(out, 0);
        });
        assertEquals(0, runClient("info status"));
        assertEquals("info status", received.get(5, TimeUnit.SECONDS));
        assertEquals("status: running\nµ done\n", stdout.toString(StandardCharsets.UTF_8));
        assertEquals("warning: slow\n", stderr.toString(StandardCharsets.UTF_8));
    }

    @Test
    void newlinesInTheScriptBecomeSemicolonsOnOneRequestLine() throws Exception {
        serve((request, out) -> MonitorFrames.writeExit(out, 0));
        assertEquals(0, runClient("vm_create a\ninfo status\r\nquit"));
        assertEquals("vm_create a;info status;quit", received.get(5, TimeUnit.SECONDS));
    }

    /** The host cannot see the client's terminal: a client on one tells it, so migrate draws its bar. */
    @Test
    void aClientOnATerminalSendsItsWidthBeforeTheScript() throws Exception {
        serve((request, out) -> MonitorFrames.writeExit(out, 0));
        MonitorClient client = new MonitorClient(new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8), new Tty(true, 132));
        assertEquals(0, client.run(address, "migrate a unix:/tmp/b.sock\ninfo migrate"));
        assertEquals("GODWIT_TTY = true; COLUMNS = 132; migrate a unix:/tmp/b.sock;info migrate",
                received.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aClientInAPipeSendsTheScriptAsItIs() throws Exception {
        serve((request, out) -> MonitorFrames.writeExit(out, 0));
        MonitorClient client = new MonitorClient(new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8), Tty.NONE);
        assertEquals(0, client.run(address, "migrate a unix:/tmp/b.sock"));
        assertEquals("migrate a unix:/tmp/b.sock", received.get(5, TimeUnit.SECONDS));
    }

    @Test
    void passesAFailedCommandsStatusThrough() throws Exception {
        serve((request, out) -> {
            MonitorFrames.write(out, MonitorFrames.ERR, utf8("Error: no VM named x\n"));
            MonitorFrames.writeExit(out, 1);
        });
        assertEquals(1, runClient("vm_check x"));
        assertEquals("Error: no VM named x\n", stderr.toString(StandardCharsets.UTF_8));
    }

    @Test
    void outputIsCopiedAsItArrivesNotAtTheEnd() throws Exception {
        CountDownLatch seen = new CountDownLatch(1);
        serve((request, out) -> {
            MonitorFrames.write(out, MonitorFrames.OUT, utf8("pass 1: 12% sent\n"));
            // The migration goes on only once the client has shown the progress line.
            assertTrue(seen.await(10, TimeUnit.SECONDS), "progress was not relayed while the command ran");
            MonitorFrames.writeExit(out, 0);
        });
        CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> runClient("migrate"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!stdout.toString(StandardCharsets.UTF_8).contains("12% sent") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        seen.countDown();
        assertEquals(0, status.get(10, TimeUnit.SECONDS));
        assertEquals("pass 1: 12% sent\n", stdout.toString(StandardCharsets.UTF_8));
    }

    @Test
    void noSocketIsStatusTwoWithOneLine() {
        assertEquals(MonitorClient.UNREACHABLE, runClient("info status"));
        String err = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(err.startsWith("Error: cannot connect to " + address + ": no such socket"), err);
        assertEquals(1, err.lines().count());
    }

    @Test
    void aStaleSocketFileIsRefused() throws Exception {
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(address.socketAddress());
        dead.close();   // the file stays, nobody listens: a host that was killed
        assertEquals(MonitorClient.UNREACHABLE, runClient("info status"));
        assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("connection refused"), stderr.toString());
    }

    @Test
    void aConnectionClosedBeforeTheExitFrameIsAnError() throws Exception {
        serve((request, out) -> MonitorFrames.write(out, MonitorFrames.OUT, utf8("partial\n")));
        assertEquals(MonitorClient.UNREACHABLE, runClient("migrate"));
        assertEquals("partial\n", stdout.toString(StandardCharsets.UTF_8));
        String err = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(err.contains("closed the connection before the command finished"), err);
        assertEquals(1, err.lines().count());
    }

    @Test
    void aForeignProtocolIsRefused() throws Exception {
        serve((request, out) -> out.write(utf8("HTTP/1.1 400 Bad Request\r\n\r\n")));
        assertEquals(MonitorClient.UNREACHABLE, runClient("info status"));
        assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("unknown frame kind"), stderr.toString());
    }

    @Test
    void anOversizedFrameIsRefusedWithoutAllocatingIt() throws Exception {
        serve((request, out) -> {
            out.write(new byte[] {'O', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            out.flush();
        });
        assertEquals(MonitorClient.UNREACHABLE, runClient("info status"));
        assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("too large"), stderr.toString());
    }
}
