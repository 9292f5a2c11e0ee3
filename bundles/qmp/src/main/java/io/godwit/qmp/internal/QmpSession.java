package io.godwit.qmp.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QMP client (docs/interop/qmp-spec.rst): the greeting, the capabilities negotiation, then one
 * command per line, answered in order, with the VM's events in between. Two threads: this one reads and
 * runs commands, a writer sends events (and replies queued behind them) in the order they were queued,
 * so a client that is slow to read never holds up the thread that produced an event (a migration's). A
 * reply with nothing queued before it is written by this thread at once: a poll then wakes one thread
 * here, not two, which on a busy host is most of a poll's time. A client that does not read at all fills
 * its queue and is cut off; a line that is not JSON, or too long, is answered with an error and the
 * session goes on. Framing: a request ends at '\n', as every QMP client sends it.
 */
final class QmpSession implements Runnable {

    /** The longest request line; a longer one is refused whole (QEMU limits its JSON tokens too). */
    static final int MAX_LINE = 1 << 20;
    /** Replies and events waiting for a client that does not read. */
    static final int MAX_QUEUED = 4096;

    private static final Logger LOG = LoggerFactory.getLogger(QmpSession.class);
    private static final byte[] END = new byte[0];
    private static final byte[] CRLF = {'\r', '\n'};
    private static final Set<String> MEMBERS = Set.of("execute", "arguments", "id");

    private final ByteChannel channel;
    private final QmpCommands commands;
    private final ObjectMapper json;
    private final ObjectNode greeting;
    private final BlockingQueue<byte[]> out = new ArrayBlockingQueue<>(MAX_QUEUED);
    /** Lines queued and not yet written: counted before a line is queued, uncounted once it is written. */
    private final java.util.concurrent.atomic.AtomicInteger unwritten = new java.util.concurrent.atomic.AtomicInteger();
    /** Held while a line is written, by either thread, so lines never interleave or overtake. */
    private final java.util.concurrent.locks.ReentrantLock writing = new java.util.concurrent.locks.ReentrantLock();
    private final String name;
    private volatile boolean negotiated;
    private final Thread writer;

    QmpSession(ByteChannel channel, QmpCommands commands, ObjectMapper json, QmpVersion version, String name) {
        this.channel = channel;
        this.commands = commands;
        this.json = json;
        this.name = name;
        this.greeting = JsonNodeFactory.instance.objectNode();
        ObjectNode qmp = greeting.putObject("QMP");
        qmp.set("version", version.json());
        qmp.putArray("capabilities"); // no oob
        writer = new Thread(this::writeLoop, name + "-out");
        writer.setDaemon(true);
    }

    @Override
    public void run() {
        writer.start();
        try {
            send(greeting);
            readLoop();
        } catch (IOException e) {
            LOG.debug("{}: connection ended: {}", name, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            end(Duration.ofSeconds(2));
        }
    }

    /**
     * Sends an event, if the client has negotiated (none are sent before). Never blocks: a client whose
     * queue is full is not reading, and is cut off.
     */
    void event(byte[] line) {
        if (!negotiated) {
            return;
        }
        unwritten.incrementAndGet();
        if (!out.offer(line)) {
            unwritten.decrementAndGet();
            LOG.warn("{}: client does not read its events; closing its connection", name);
            closeChannel();
        }
    }

    /**
     * Ends the session: what is queued is sent within {@code drain}, then the connection closes, which
     * ends the reading thread too. Safe to call from any thread, twice.
     */
    void end(Duration drain) {
        if (!out.offer(END)) {
            closeChannel();
        }
        if (writer.isAlive() && writer != Thread.currentThread()) {
            try {
                writer.join(drain);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeChannel();
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all there is left to do
        }
    }

    private void writeLoop() {
        try {
            for (byte[] line = out.take(); line != END; line = out.take()) {
                writing.lock();
                try {
                    write(line);
                    unwritten.decrementAndGet();
                } finally {
                    writing.unlock();
                }
            }
        } catch (IOException e) {
            LOG.debug("{}: cannot write: {}", name, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeChannel();
        }
    }

    private void write(byte[] line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(line);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /**
     * Sends a reply (or the greeting) after everything queued before it. The reading thread waits for a
     * slow client: it is this client's own.
     */
    private void send(JsonNode message) throws InterruptedException, IOException {
        byte[] line = line(message);
        writing.lock();
        try {
            if (unwritten.get() == 0) { // every event so far is written: nothing to keep order with
                write(line);
                return;
            }
        } finally {
            writing.unlock();
        }
        unwritten.incrementAndGet();
        out.put(line);
    }

    private byte[] line(JsonNode message) {
        try {
            byte[] body = json.writeValueAsBytes(message);
            byte[] line = new byte[body.length + CRLF.length];
            System.arraycopy(body, 0, line, 0, body.length);
            System.arraycopy(CRLF, 0, line, body.length, CRLF.length);
            return line;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write QMP reply", e); // our own tree: a bug
        }
    }

    /** Reads lines of at most {@link #MAX_LINE} bytes; a longer one is refused once and skipped to its end. */
    private void readLoop() throws IOException, InterruptedException {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        boolean skipping = false;
        while (true) {
            buffer.clear();
            if (channel.read(buffer) < 0) {
                return;
            }
            buffer.flip();
            byte[] a = buffer.array();
            int start = 0;
            for (int i = 0; i < buffer.limit(); i++) {
                if (a[i] != '\n') {
                    continue;
                }
                if (!skipping) {
                    line.write(a, start, i - start);
                    handle(line.toByteArray());
                }
                line.reset();
                skipping = false;
                start = i + 1;
            }
            if (!skipping) {
                line.write(a, start, buffer.limit() - start);
                if (line.size() > MAX_LINE) {
                    line.reset();
                    skipping = true;
                    error(null, QmpError.generic("QMP input line longer than " + MAX_LINE + " bytes: skipped to its end"));
                }
            }
        }
    }

    private void handle(byte[] line) throws InterruptedException, IOException {
        if (isBlank(line)) {
            return;
        }
        JsonNode request;
        try {
            request = json.readTree(line);
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
            error(null, QmpError.generic("JSON parse error, " + firstLine(why)));
            return;
        }
        JsonNode id = request.isObject() ? request.get("id") : null;
        try {
            String command = check(request);
            JsonNode arguments = request.get("arguments");
            JsonNode result = execute(command, arguments == null ? Args.empty() : new Args((ObjectNode) arguments));
            ObjectNode reply = JsonNodeFactory.instance.objectNode();
            reply.set("return", result);
            putId(reply, id);
            send(reply);
            commands.afterReply(command);
        } catch (QmpError e) {
            error(id, e);
        }
    }

    /** QEMU's checks of a request (qmp-dispatch.c), with its wording; returns the command's name. */
    private static String check(JsonNode request) {
        if (!request.isObject()) {
            throw QmpError.generic("QMP input must be a JSON object");
        }
        for (Iterator<String> it = request.fieldNames(); it.hasNext(); ) {
            String member = it.next();
            if (!MEMBERS.contains(member)) {
                throw QmpError.generic("QMP input member '" + member + "' is unexpected");
            }
        }
        JsonNode execute = request.get("execute");
        if (execute == null) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        if (!execute.isTextual()) {
            throw QmpError.generic("QMP input member 'execute' must be a string");
        }
        JsonNode arguments = request.get("arguments");
        if (arguments != null && !arguments.isObject()) {
            throw QmpError.generic("QMP input member 'arguments' must be an object");
        }
        return execute.textValue();
    }

    private JsonNode execute(String command, Args args) throws InterruptedException {
        boolean negotiation = command.equals(QmpCommands.CAPABILITIES);
        if (!negotiated && !negotiation) {
            throw QmpError.notFound("Expecting capabilities negotiation with '" + QmpCommands.CAPABILITIES + "'");
        }
        if (negotiated && negotiation) {
            throw QmpError.notFound("Capabilities negotiation is already complete, command ignored");
        }
        try {
            JsonNode result = commands.execute(command, args);
            if (negotiation) {
                negotiated = true;
            }
            return result;
        } catch (QmpError | InterruptedException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw QmpError.generic(firstLine(e.getMessage()));
        } catch (Exception e) {
            LOG.warn("{}: {} failed", name, command, e);
            throw QmpError.generic(firstLine(e.toString()));
        }
    }

    private void error(JsonNode id, QmpError e) throws InterruptedException, IOException {
        ObjectNode reply = JsonNodeFactory.instance.objectNode();
        reply.putObject("error").put("class", e.errorClass()).put("desc", e.desc());
        putId(reply, id);
        send(reply);
    }

    private static void putId(ObjectNode reply, JsonNode id) {
        if (id != null) {
            reply.set("id", id);
        }
    }

    private static boolean isBlank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }
}
