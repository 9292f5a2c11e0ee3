package io.godwit.shell.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One monitor connection: read one script (UTF-8, up to the first '\n'), run it step by step
 * ({@link ScriptStep}) in a fresh Gogo session, answer with frames ({@link FrameWriter}) and close.
 * Runs on its own thread.
 */
final class MonitorSession implements Runnable {

    /** A script is a command line or a few, not a payload: refuse anything larger. */
    static final int MAX_SCRIPT = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(MonitorSession.class);

    private final SocketChannel channel;
    private final CommandProcessor processor;
    private final String refusal;

    /** @param refusal why this client may not give commands (one line), or null when it may */
    MonitorSession(SocketChannel channel, CommandProcessor processor, String refusal) {
        this.channel = channel;
        this.processor = processor;
        this.refusal = refusal;
    }

    SocketChannel channel() {
        return channel;
    }

    @Override
    public void run() {
        try (channel) {
            FrameWriter frames = new FrameWriter(channel);
            frames.exit(refusal == null ? serve(frames) : refuse(frames));
        } catch (IOException e) {
            // The client went away or we are shutting down: there is nobody left to tell.
            LOG.debug("monitor connection ended early: {}", e.toString());
        }
    }

    private int serve(FrameWriter frames) throws IOException {
        try {
            return execute(readScript(), frames);
        } catch (IllegalArgumentException e) { // the request itself was bad
            fail(frames, e);
            return 1;
        }
    }

    /**
     * Reads the request as for any client and runs none of it. Read, because the client writes it
     * before it reads the answer: closing on unread bytes would reset the connection, and the client
     * would see "connection reset" where it should see why.
     */
    private int refuse(FrameWriter frames) throws IOException {
        try {
            readScript();
        } catch (IllegalArgumentException ignored) {
            // bad or not, it is not run
        }
        error(frames, refusal);
        return 1;
    }

    private int execute(String script, FrameWriter frames) throws IOException {
        OutputStream rawOut = frames.stream(FrameWriter.OUT);
        PrintStream out = new PrintStream(rawOut, true, StandardCharsets.UTF_8);
        OutputStream err = frames.stream(FrameWriter.ERR);
        // The session writes to the frames directly, not through a PrintStream that would swallow a
        // write error: a command's stdout (Gogo's own PrintStream) then shows in checkError() that
        // the client went away, which migrate takes as a Ctrl-C.
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), rawOut, err)) {
            // The host cannot see whether the client prints to a terminal; the launcher's --connect
            // starts its script with "GODWIT_TTY = true; COLUMNS = <width>; " when it does (see Tty).
            session.put(Tty.VARIABLE, false);
            // As the launcher's -c mode: step by step, each result printed as the console prints a
            // line's result (nothing for null or an assignment); the first failure ends the script.
            for (ScriptStep step : ScriptStep.split(script)) {
                Object result;
                try {
                    result = session.execute(step.text());
                } catch (IllegalArgumentException e) {
                    throw ownMessage(session, e);
                }
                if (result != null && !step.assignment()) {
                    out.println(session.format(result, Converter.INSPECT));
                }
            }
            return 0;
        } catch (Exception | LinkageError e) {
            fail(frames, e);
            return 1;
        }
    }

    /** Godwit's own message where Gogo refused the line before the command ran ({@link CommandErrors}). */
    private static IllegalArgumentException ownMessage(CommandSession session, IllegalArgumentException e) {
        return session.get(CommandErrors.VARIABLE) instanceof String own ? new IllegalArgumentException(own) : e; // no cause: the error shows the root cause's message
    }

    private static void fail(FrameWriter frames, Throwable e) throws IOException {
        error(frames, rootMessage(e));
    }

    /** Sends {@code Error: MESSAGE} as one stderr frame. */
    static void error(FrameWriter frames, String message) throws IOException {
        byte[] line = ("Error: " + message + "\n").getBytes(StandardCharsets.UTF_8);
        frames.frame(FrameWriter.ERR, line, 0, line.length);
    }

    /** The deepest cause's message, first line only, or its class name when it has none. */
    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (message == null || message.isBlank()) {
            return root.getClass().getSimpleName();
        }
        return message.strip().lines().findFirst().orElse("");
    }

    /** Reads up to the first '\n' (or the end of input) and decodes it as UTF-8. */
    private String readScript() throws IOException {
        ByteArrayOutputStream script = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (true) {
            buffer.clear();
            if (channel.read(buffer) < 0) {
                break;
            }
            buffer.flip();
            int end = buffer.limit();
            for (int i = 0; i < buffer.limit(); i++) {
                if (buffer.get(i) == '\n') {
                    end = i;
                    break;
                }
            }
            script.write(buffer.array(), 0, end);
            if (script.size() > MAX_SCRIPT) {
                throw new IllegalArgumentException("script longer than " + MAX_SCRIPT + " bytes");
            }
            if (end < buffer.limit()) {
                break;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(script.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("script is not valid UTF-8");
        }
    }
}
