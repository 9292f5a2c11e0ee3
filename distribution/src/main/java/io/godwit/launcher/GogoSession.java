package io.godwit.launcher;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * A Gogo {@code CommandSession} driven by reflection: Gogo lives in a bundle, and putting it on the
 * launcher's class path would give the host two copies of its API. The interface methods are looked
 * up through the gogo.runtime bundle's class loader, so the calls bind to the exported API.
 */
public final class GogoSession implements AutoCloseable {

    private static final String API = "org.apache.felix.service.command.";
    /** {@code Converter.INSPECT}: the detailed view the Gogo console prints for a result. */
    private static final int INSPECT = 0;

    private final BundleContext context;
    private final ServiceReference<?> reference;
    private final Object session;
    private final Method execute;
    private final Method format;
    private final Method close;
    private final Method put;
    private final Method get;

    private GogoSession(BundleContext context, ServiceReference<?> reference, Object session, Class<?> type)
            throws NoSuchMethodException {
        this.context = context;
        this.reference = reference;
        this.session = session;
        this.execute = type.getMethod("execute", CharSequence.class);
        this.format = type.getMethod("format", Object.class, int.class);
        this.close = type.getMethod("close");
        this.put = type.getMethod("put", String.class, Object.class);
        this.get = type.getMethod("get", String.class);
    }

    /**
     * Opens a session on the command processor {@code reference} with the given streams. The
     * session's {@code SCOPE} puts {@code godwit} first, so that {@code stop} or {@code sleep} mean
     * the godwit commands and not gogo's commands of the same name.
     */
    public static GogoSession open(BundleContext context, ServiceReference<?> reference,
                                   InputStream in, OutputStream out, OutputStream err) throws Exception {
        Object processor = context.getService(reference);
        if (processor == null) {
            throw new IllegalStateException("the Gogo command processor went away");
        }
        Class<?> processorType = reference.getBundle().loadClass(API + "CommandProcessor");
        Class<?> sessionType = reference.getBundle().loadClass(API + "CommandSession");
        Object session = invoke(processorType.getMethod("createSession", InputStream.class, OutputStream.class,
                OutputStream.class), processor, in, out, err);
        GogoSession gogo = new GogoSession(context, reference, session, sessionType);
        gogo.put("SCOPE", "godwit:*");
        return gogo;
    }

    /**
     * One top-level step of a script, run with its own {@link #execute} so that every step's
     * result can be printed: {@code execute("info status; info cpus")} would return, and so print,
     * only the last one.
     *
     * @param assignment a {@code NAME = VALUE} statement, whose result (the value) is not printed
     */
    public record Step(String text, boolean assignment) {
    }

    /**
     * The steps of a script ({@code a; b} or one per line), cut by Gogo's own parser so that
     * quotes, closures and pipes stay whole; {@code a && b}, {@code a || b} and {@code a &} stay one
     * step. The shell bundle's monitor cuts scripts the same way (its {@code ScriptStep}, which
     * calls the parser directly).
     *
     * @throws Exception Gogo's {@code SyntaxError} for a script that does not parse
     */
    public List<Step> steps(CharSequence script) throws Exception {
        Class<?> parserType = reference.getBundle().loadClass("org.apache.felix.gogo.runtime.Parser");
        Object parser = parserType.getConstructor(CharSequence.class).newInstance(script);
        Object program = invoke(parserType.getMethod("program"), parser);
        List<Step> steps = new ArrayList<>();
        List<CharSequence> chain = new ArrayList<>(); // Gogo's tokens are CharSequences of the script
        for (Object executable : (List<?>) invoke(program.getClass().getMethod("tokens"), program)) {
            String text = executable.toString();
            boolean operator = executable.getClass().getSimpleName().equals("Operator");
            if (operator && (text.equals(";") || text.equals("\n"))) {
                addStep(steps, chain);
            } else {
                chain.add((CharSequence) executable);
            }
        }
        addStep(steps, chain);
        return steps;
    }

    private static void addStep(List<Step> steps, List<CharSequence> chain) throws Exception {
        String text = String.join(" ", chain);
        if (text.isBlank()) { // "a;;b" has an empty statement
            chain.clear();
            return;
        }
        Object first = chain.getFirst();
        boolean assignment = false;
        if (chain.size() == 1 && first.getClass().getSimpleName().equals("Statement")) {
            List<?> tokens = (List<?>) invoke(first.getClass().getMethod("tokens"), first);
            assignment = tokens.size() > 1 && tokens.get(1).toString().equals("=");
        }
        steps.add(new Step(text, assignment));
        chain.clear();
    }

    /** Sets a session variable ({@code session.put(name, value)}). */
    public void put(String name, Object value) throws Exception {
        invoke(put, session, name, value);
    }

    /** A session variable ({@code session.get(name)}), or null. */
    public Object get(String name) throws Exception {
        return invoke(get, session, name);
    }

    /** Runs a script; a failing command throws its own exception (unwrapped from reflection). */
    public Object execute(CharSequence script) throws Exception {
        return invoke(execute, session, script);
    }

    /** The result as the Gogo console shows it ({@code session.format(result, Converter.INSPECT)}). */
    public String format(Object result) throws Exception {
        return String.valueOf(invoke(format, session, result, INSPECT));
    }

    @Override
    public void close() {
        try {
            invoke(close, session);
        } catch (Exception e) {
            // closing a session of a stopping framework may fail; nothing is lost
        } finally {
            context.ungetService(reference);
        }
    }

    private static Object invoke(Method method, Object target, Object... args) throws Exception {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception exception) {
                throw exception;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }
}
