package io.godwit.shell.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Godwit's own one-line error where Gogo refuses a command line before the command runs: arguments that
 * match none of the command's signatures ({@code vm_list a}: {@code Cannot coerce vm_list(Token) to any
 * of [()]}), or an option of a command outside Godwit left without its value. {@link GodwitScope} leaves
 * ours in the session variable {@link #VARIABLE} after such a failure, where the monitor and the
 * launcher's {@code -c} mode take it instead of Gogo's; the console (gogo.jline) has no such hook, which
 * is why Godwit's commands take their value options themselves ({@link OptionArgs}).
 */
final class CommandErrors {

    /** The session variable that holds our message for the last command line's failure, if any. */
    static final String VARIABLE = "GODWIT_ERROR";

    private static final Pattern NO_MATCH = Pattern.compile("^Cannot coerce ([A-Za-z0-9_.-]+)\\(");

    private CommandErrors() {}

    /** Our message for {@code e}, thrown running {@code line}; null when Gogo's matching did not refuse it. */
    static String describe(Throwable e, CharSequence line) {
        if (!(e instanceof IllegalArgumentException) || e.getMessage() == null || line == null) {
            return null;
        }
        Matcher m = NO_MATCH.matcher(e.getMessage());
        if (!m.find()) {
            return null;
        }
        String command = m.group(1);
        String[] words = line.toString().strip().split("\\s+");
        String last = words[words.length - 1];
        if (words.length > 1 && last.startsWith("-")) {
            return command + ": option " + last + " needs a value (see help " + command + ")";
        }
        return command + ": the arguments do not fit its options (see help " + command + ")";
    }
}
