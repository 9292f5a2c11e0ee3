package io.godwit.shell.internal;

import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The positional arguments of the commands. Gogo hands an option it does not know to the method as
 * a positional argument, so every command takes its positionals as {@code String...} and checks
 * them here: that turns a typo into "unknown option" instead of Gogo's "Cannot coerce".
 */
final class VmArgs {

    private VmArgs() {}

    /**
     * The VM a command acts on: the one named, or the host's only VM when no name is given.
     *
     * @throws IllegalArgumentException when the name is unknown, missing with zero or several VMs,
     *     an option, or followed by more arguments
     */
    static Vm resolve(VmManager vms, String command, String... args) {
        String name = optionalName(command, args);
        if (name != null) {
            return vms.get(name).orElseThrow(() -> new IllegalArgumentException(noSuchVm(vms, name)));
        }
        List<Vm> all = vms.list();
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no VM on this host: create one with vm_create");
        }
        if (all.size() > 1) {
            throw new IllegalArgumentException(
                    all.size() + " VMs on this host (" + names(all) + "): name one, e.g. " + command + " "
                            + all.get(0).name());
        }
        return all.get(0);
    }

    /** The single NAME a command requires, checked for options but not for existence. */
    static String requiredName(String command, String what, String... args) {
        String name = optionalName(command, args);
        if (name == null) {
            throw new IllegalArgumentException(command + " needs " + what);
        }
        return name;
    }

    /** The name given, or null when none; refuses options and extra arguments. */
    static String optionalName(String command, String... args) {
        String[] a = args == null ? new String[0] : args;
        for (String arg : a) {
            if (arg != null && arg.startsWith("-")) {
                // VM names start with a letter or digit (VmSpec), so this was meant as an option.
                throw new IllegalArgumentException("unknown option '" + arg + "' for " + command
                        + " (see help " + command + ")");
            }
        }
        if (a.length > 1) {
            throw new IllegalArgumentException(
                    "too many arguments for " + command + ": " + String.join(" ", a) + " (give one VM name)");
        }
        return a.length == 0 ? null : a[0];
    }

    /** A VM and the arguments that followed its (possibly omitted) NAME. */
    record Named(Vm vm, List<String> rest) {}

    /**
     * Splits {@code [NAME] ARG...} where the command takes {@code min} to {@code max} arguments
     * after the optional NAME. With {@code max + 1} arguments the first is the NAME; with fewer it
     * is the NAME only if it names an existing VM and enough arguments follow (so
     * {@code migrate_continue a} means VM a, {@code migrate_continue pre-switchover} the state).
     * Without a NAME the host's only VM is meant, as in {@link #resolve}.
     *
     * @param usage the command's synopsis for errors, e.g. {@code migrate [-d] [NAME] URI}
     * @throws IllegalArgumentException for an option, too few or too many arguments, or no such VM
     */
    static Named withOptionalName(VmManager vms, String command, String usage, int min, int max, String... args) {
        String[] a = args == null ? new String[0] : args;
        for (String arg : a) {
            if (arg != null && arg.startsWith("-") && !isNumber(arg)) {
                throw new IllegalArgumentException("unknown option '" + arg + "' for " + command
                        + " (see help " + command + ")");
            }
        }
        if (a.length < min) {
            throw new IllegalArgumentException("missing arguments for " + command + " (usage: " + usage + ")");
        }
        if (a.length > max + 1) {
            throw new IllegalArgumentException("too many arguments for " + command + ": " + String.join(" ", a)
                    + " (usage: " + usage + ")");
        }
        boolean named = a.length == max + 1 || (a.length > min && vms.get(a[0]).isPresent());
        if (!named) {
            return new Named(resolve(vms, command), Arrays.asList(a));
        }
        return new Named(resolve(vms, command, a[0]), Arrays.asList(a).subList(1, a.length));
    }

    private static boolean isNumber(String arg) {
        return arg.matches("-\\d.*"); // a negative value, refused later with its range
    }

    static String noSuchVm(VmManager vms, String name) {
        List<Vm> all = vms.list();
        return "no VM named '" + name + "'"
                + (all.isEmpty() ? ": the host has no VMs" : " (VMs: " + names(all) + ")");
    }

    private static String names(List<Vm> all) {
        return all.stream().map(Vm::name).collect(Collectors.joining(", "));
    }
}
