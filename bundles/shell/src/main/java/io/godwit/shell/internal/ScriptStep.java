package io.godwit.shell.internal;

import java.util.ArrayList;
import java.util.List;
import org.apache.felix.gogo.runtime.Parser;
import org.apache.felix.gogo.runtime.Token;

/**
 * One step of a script, as the monitor runs them one by one, so that each step's result can be
 * printed: {@code execute("info status; info cpus")} would return, and so print, only the last.
 * Gogo's own parser does the cutting, so quotes, closures and pipes stay whole. A step ends at
 * {@code ';'} or a newline; {@code a && b}, {@code a || b} and {@code a &} stay one step, since
 * running their parts apart would change what they mean.
 *
 * <p>The launcher's {@code -c} mode cuts scripts the same way ({@code GogoSession.steps}); it
 * reaches the parser by reflection, being outside OSGi, so the two are kept parallel by hand.
 *
 * @param assignment a top-level {@code NAME = VALUE}: its result (the value) is not printed, so
 *     that a script may set session variables, such as the {@code GODWIT_TTY = true; COLUMNS = 120; }
 *     a monitor client on a terminal puts before its script, without echoing them
 */
record ScriptStep(String text, boolean assignment) {

    /** @throws org.apache.felix.gogo.runtime.SyntaxError for a script that does not parse */
    static List<ScriptStep> split(CharSequence script) {
        List<ScriptStep> steps = new ArrayList<>();
        List<Parser.Executable> chain = new ArrayList<>();
        for (Parser.Executable e : new Parser(script).program().tokens()) {
            if (e instanceof Parser.Operator && (Token.eq(";", e) || Token.eq("\n", e))) {
                add(steps, chain);
            } else {
                chain.add(e);
            }
        }
        add(steps, chain);
        return steps;
    }

    private static void add(List<ScriptStep> steps, List<Parser.Executable> chain) {
        String text = String.join(" ", chain);
        if (text.isBlank()) { // "a;;b" has an empty statement
            chain.clear();
            return;
        }
        boolean assignment = chain.size() == 1 && chain.getFirst() instanceof Parser.Statement s
                && s.tokens().size() > 1 && Token.eq("=", s.tokens().get(1));
        steps.add(new ScriptStep(text, assignment));
        chain.clear();
    }
}
