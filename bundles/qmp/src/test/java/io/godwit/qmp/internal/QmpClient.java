package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A plain QMP client for the tests: it reads the greeting, sends lines and sorts what comes back into
 * replies and events. Written from the specification, not from the server's classes.
 */
final class QmpClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;
    final JsonNode greeting;
    final List<JsonNode> events = new ArrayList<>();

    QmpClient(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        out = Channels.newOutputStream(channel);
        greeting = JSON.readTree(in.readLine());
    }

    /** Connects and negotiates. */
    static QmpClient ready(Path socket) throws IOException {
        QmpClient c = new QmpClient(socket);
        JsonNode r = c.execute("qmp_capabilities");
        if (!r.has("return")) {
            throw new IOException("negotiation failed: " + r);
        }
        return c;
    }

    void sendRaw(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next reply (a message with return or error); events read meanwhile are kept. */
    JsonNode reply() throws IOException {
        return next(m -> m.has("return") || m.has("error"));
    }

    /** The next event of this name. */
    JsonNode event(String name) throws IOException {
        for (JsonNode e : events) {
            if (e.get("event").asText().equals(name)) {
                events.remove(e);
                return e;
            }
        }
        JsonNode e = next(m -> m.has("event") && m.get("event").asText().equals(name));
        return e;
    }

    private JsonNode next(Predicate<JsonNode> wanted) throws IOException {
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed by the server");
            }
            JsonNode m = JSON.readTree(line);
            if (wanted.test(m)) {
                return m;
            }
            if (m.has("event")) {
                events.add(m);
            }
        }
    }

    /** Sends {"execute": name, "arguments": args} and returns the reply. */
    JsonNode execute(String name, String argumentsJson) throws IOException {
        sendRaw("{\"execute\": \"" + name + "\"" + (argumentsJson == null ? "" : ", \"arguments\": " + argumentsJson)
                + "}\n");
        return reply();
    }

    JsonNode execute(String name) throws IOException {
        return execute(name, null);
    }

    /** The return value of a command that must succeed. */
    JsonNode ok(String name, String argumentsJson) throws IOException {
        JsonNode r = execute(name, argumentsJson);
        if (!r.has("return")) {
            throw new AssertionError(name + " failed: " + r);
        }
        return r.get("return");
    }

    /** True when the server has closed the connection (reads to its end). */
    boolean closedByServer() throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            events.add(JSON.readTree(line));
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
