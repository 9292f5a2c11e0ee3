package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The script loop of {@code -c} in gogo.runtime's real processor, reached through GogoSession's
 * reflection as in the host (here the "bundle" class loader is the test's).
 */
class ScriptModeTest {

    /** Commands that show what the loop prints, and what the session was told. */
    public static final class Probe {
        public String hello() {
            return "hello";
        }

        public void quiet() {
        }

        public void fail() {
            throw new IllegalStateException("the root cause");
        }

        public String tty(CommandSession session) {
            return session.get("GODWIT_TTY") + " " + session.get("COLUMNS");
        }

        public String opt(@org.apache.felix.service.command.Parameter(names = "--x", absentValue = "") String x) {
            return x;
        }
    }

    /** What the shell's GodwitScope does after a line Gogo refused: its own message in GODWIT_ERROR. */
    public static final class OwnErrors implements org.apache.felix.service.command.CommandSessionListener {
        @Override
        public void beforeExecute(CommandSession session, CharSequence command) {}

        @Override
        public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
            session.put("GODWIT_ERROR", "opt: option --x needs a value");
        }

        @Override
        public void afterExecute(CommandSession session, CharSequence command, Object result) {}
    }

    private static ThreadIOImpl threadIo;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private GogoSession session;

    @BeforeAll
    static void startThreadIo() {
        threadIo = new ThreadIOImpl();
        threadIo.start();
    }

    @AfterAll
    static void stopThreadIo() {
        threadIo.stop();
    }

    @BeforeEach
    void open() throws Exception {
        CommandProcessorImpl processor = new CommandProcessorImpl(threadIo);
        for (String f : List.of("hello", "quiet", "fail", "tty", "opt")) {
            processor.addCommand("godwit", new Probe(), f);
        }
        processor.addListener(new OwnErrors());
        Bundle bundle = proxy(Bundle.class, (name, args) -> name.equals("loadClass")
                ? Class.forName((String) args[0], false, ScriptModeTest.class.getClassLoader()) : null);
        ServiceReference<?> reference = proxy(ServiceReference.class, (name, args) -> name.equals("getBundle") ? bundle : null);
        BundleContext context = proxy(BundleContext.class, (name, args) -> switch (name) {
            case "getService" -> processor;
            case "ungetService" -> true;
            default -> null;
        });
        session = GogoSession.open(context, reference, InputStream.nullInputStream(), out, out);
    }

    @AfterEach
    void close() {
        session.close();
    }

    interface Answer {
        Object answer(String method, Object[] args) throws Exception;
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, Answer answer) {
        return (T) Proxy.newProxyInstance(ScriptModeTest.class.getClassLoader(), new Class<?>[] {type},
                (p, method, args) -> answer.answer(method.getName(), args));
    }

    private String run(String script, Tty tty) throws Exception {
        ScriptMode.run(session, script, tty, new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyStepsResultIsPrintedNothingForNull() throws Exception {
        assertEquals("hello\nhello\n", run("hello; quiet\nhello", Tty.NONE));
    }

    @Test
    void theFirstFailureEndsTheScript() {
        Exception e = assertThrows(IllegalStateException.class, () -> run("hello; fail; hello", Tty.NONE));
        assertEquals("the root cause", e.getMessage());
        assertEquals("hello\n", out.toString(StandardCharsets.UTF_8));
    }

    /** Gogo refuses "opt --x" before opt runs ("Cannot coerce ..."): the shell's message is printed instead. */
    @Test
    void gogosRefusalGivesTheShellsOwnMessage() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> run("opt --x", Tty.NONE));
        assertEquals("opt: option --x needs a value", e.getMessage());
    }

    @Test
    void assignmentsPrintNothing() throws Exception {
        assertEquals("hello\n", run("x = hello; y=1; $x", Tty.NONE));
    }

    @Test
    void theTerminalIsToldToTheSession() throws Exception {
        assertEquals("true 132\n", run("tty", new Tty(true, 132)));
        out.reset();
        assertEquals("false null\n", run("COLUMNS = ; tty", Tty.NONE));
    }

    @Test
    void gogosParserCutsTheSteps() throws Exception {
        assertEquals(List.of(new GogoSession.Step("hello", false), new GogoSession.Step("x = 'a; b'", true),
                        new GogoSession.Step("hello && quiet", false), new GogoSession.Step("hello || fail", false),
                        new GogoSession.Step("hello | quiet", false), new GogoSession.Step("{ hello; hello }", false)),
                session.steps("hello; x = 'a; b'\n\nhello && quiet; hello || fail;hello | quiet; { hello; hello }"));
        assertEquals(List.of(), session.steps(""));
        assertEquals(List.of(), session.steps(" ; ;"));
    }

    /** a || b, run apart, would run b after a that succeeded. */
    @Test
    void chainsRunAsOneStep() throws Exception {
        assertEquals("hello\n", run("hello || fail", Tty.NONE));
        assertThrows(IllegalStateException.class, () -> run("fail && hello", Tty.NONE));
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("hello\nhello"));
    }

    @Test
    void aScriptThatDoesNotParseRunsNothing() {
        Exception e = assertThrows(Exception.class, () -> run("hello; { hello", Tty.NONE));
        assertTrue(e.getClass().getName().startsWith("org.apache.felix.gogo.runtime."), e.toString());
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }
}
