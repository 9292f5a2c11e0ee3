package io.godwit.shell.internal;

/**
 * One subject of the {@code info} command ({@code info status}, {@code info cpus},
 * {@code info migrate}, ...). Each subject is a DS service of this bundle: a component that adds
 * commands adds its subjects by providing this service too, and {@link InfoCommand} picks them up as
 * they come and go (so {@code info migrate} exists exactly while the migration service does).
 */
public interface InfoSubject {

    /** The word after {@code info}, e.g. {@code status}; unique in the bundle. */
    String name();

    /** One line for the list {@code info} prints, with the arguments, e.g. {@code info cpus [NAME]}. */
    String description();

    /**
     * Shows the subject. Runs on the command's thread.
     *
     * @param args the words after the subject
     * @return what the command prints (a String without a trailing newline), or null for nothing
     * @throws IllegalArgumentException with a one-line message for bad arguments
     */
    Object show(String... args) throws Exception;
}
