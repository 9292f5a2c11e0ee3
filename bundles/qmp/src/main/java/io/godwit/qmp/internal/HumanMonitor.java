package io.godwit.qmp.internal;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/**
 * QMP's {@code human-monitor-command}: one line of Godwit's shell, run in a fresh Gogo session, its
 * printed output and result returned as text. As in QEMU, a command that fails is not a QMP error: its
 * {@code Error: ...} line is the text (HMP prints its errors).
 */
final class HumanMonitor {

    private HumanMonitor() {}

    static String run(CommandProcessor processor, String line) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(text, true, StandardCharsets.UTF_8);
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out)) {
            Object result = session.execute(line);
            if (result != null) {
                out.println(session.format(result, Converter.INSPECT));
            }
        } catch (Exception | LinkageError e) {
            out.println("Error: " + rootMessage(e));
        }
        out.flush();
        return text.toString(StandardCharsets.UTF_8);
    }

    /** The deepest cause's first line, as the shell prints it. */
    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null || message.isBlank()
                ? root.getClass().getSimpleName()
                : message.strip().lines().findFirst().orElse("");
    }
}
