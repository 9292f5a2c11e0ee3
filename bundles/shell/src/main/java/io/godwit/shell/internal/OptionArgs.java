package io.godwit.shell.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The options a command takes out of its own {@code String...} arguments, where Gogo leaves every
 * option it was not told about. A command declares value options this way rather than with Gogo's
 * {@code @Parameter}: Gogo refuses a value option given without its value before the command runs,
 * with {@code Cannot coerce vm_create(Token, Token) to any of [(String, ...)]}, and the console
 * (gogo.jline) prints that as it is; here the command says which option needs what. Flags (a
 * {@code @Parameter} with a {@code presentValue}) may stay Gogo's: they cannot lack a value.
 *
 * <p>One per command call; each method takes what it found out of the arguments, so that
 * {@link #rest()} is what is left for the positionals (where {@link VmArgs} refuses a leftover option).
 */
final class OptionArgs {

    private final String command;
    private final String[] args;
    /** The arguments an option took, by position: an option's value is the argument after it as given. */
    private final boolean[] taken;

    /** @param command the command's name, for its errors, e.g. {@code info migrate} */
    OptionArgs(String command, String... args) {
        this.command = command;
        this.args = args == null ? new String[0] : args.clone();
        this.taken = new boolean[this.args.length];
    }

    /**
     * The value of an option given at most once, taken out with its option; null when absent.
     *
     * @param what what the value is, for the error, e.g. {@code a FILE}
     * @param example the option in use after the command, e.g. {@code --report migration.html}
     * @param names the option's names, e.g. {@code --memory} and {@code -m}
     * @throws IllegalArgumentException when the value is missing or the option is given twice
     */
    String value(String what, String example, String... names) {
        List<String> given = values(what, example, names);
        if (given.size() > 1) {
            throw new IllegalArgumentException(command + " " + names[0] + " given twice: " + String.join(", ", given)
                    + " (see help " + help() + ")");
        }
        return given.isEmpty() ? null : given.getFirst();
    }

    /** Every value of an option that may be given any number of times (as QEMU's {@code -device}), in order. */
    List<String> values(String what, String example, String... names) {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (taken[i] || !isOneOf(args[i], names)) {
                continue;
            }
            // The next argument as given, whichever options were taken before: "--incoming --memory 1G"
            // is --incoming without its value, whether --memory was taken out first or not.
            if (i + 1 >= args.length || isOption(args[i + 1])) {
                throw new IllegalArgumentException(command + " " + args[i] + " needs " + what + ", e.g. " + command
                        + " " + example);
            }
            taken[i] = true;
            taken[++i] = true;
            found.add(args[i]);
        }
        return found;
    }

    /** Whether a flag is given (any of its names, any number of times), taken out. */
    boolean flag(String... names) {
        boolean given = false;
        for (int i = 0; i < args.length; i++) {
            if (!taken[i] && isOneOf(args[i], names)) {
                taken[i] = true;
                given = true;
            }
        }
        return given;
    }

    /** The arguments no option took. */
    String[] rest() {
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (!taken[i]) {
                rest.add(args[i]);
            }
        }
        return rest.toArray(String[]::new);
    }

    private static boolean isOneOf(String arg, String... names) {
        return arg != null && Arrays.asList(names).contains(arg);
    }

    /** An option, not a value; a negative number is a value, refused later with its range. */
    private static boolean isOption(String arg) {
        return arg == null || (arg.startsWith("-") && !arg.matches("-\\d.*"));
    }

    /** {@code help info} for {@code info migrate}: help takes a command's name. */
    private String help() {
        return command.split(" ", 2)[0];
    }
}
