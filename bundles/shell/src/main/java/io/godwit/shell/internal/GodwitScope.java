package io.godwit.shell.internal;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.CommandSessionListener;
import org.osgi.service.component.annotations.Component;

/**
 * Puts scope {@code godwit} first in every session's command search path ({@code SCOPE}), and
 * after a line that Gogo refused before any command ran, leaves Godwit's own message for it in
 * {@link CommandErrors#VARIABLE}.
 *
 * <p>Why: Gogo resolves a bare name through {@code SCOPE}; with {@code *} it takes the first
 * {@code scope:name} in a hash map, so {@code stop} would be felix:stop (stop a bundle) or ours at
 * random, and the console's profile sets {@code gogo:*}, so {@code sleep} would be gogo.jline's
 * (whole seconds only). Prepending {@code godwit:} before each command line makes QEMU's names mean
 * the VM commands in the console, in the launcher's {@code -c} mode and on the monitor alike; the
 * other commands stay reachable by full name ({@code felix:stop 5}).
 */
@Component(service = CommandSessionListener.class)
public final class GodwitScope implements CommandSessionListener {

    static final String SCOPE = "SCOPE";

    @Override
    public void beforeExecute(CommandSession session, CharSequence command) {
        session.put(SCOPE, withGodwitFirst(session.get(SCOPE)));
        session.put(CommandErrors.VARIABLE, null);
    }

    static String withGodwitFirst(Object scope) {
        String path = scope == null ? "*" : scope.toString();
        if (path.equals("godwit") || path.startsWith("godwit:")) {
            return path;
        }
        return "godwit:" + path;
    }

    /** Leaves our own message where Gogo refused the line before a command ran ({@link CommandErrors}). */
    @Override
    public void afterExecute(CommandSession session, CharSequence command, Exception exception) {
        session.put(CommandErrors.VARIABLE, CommandErrors.describe(exception, command));
    }

    @Override
    public void afterExecute(CommandSession session, CharSequence command, Object result) {}
}
