package io.godwit.coordinator.internal;

/**
 * Text that came from the peer, made safe to print and bounded. Error messages quote what a stream
 * said (a subsection name, a VM name, the other side's own error), and a hostile stream could put
 * terminal escape sequences, bidi overrides or invisible characters there that {@code info migrate}
 * or the log would then replay on someone's terminal ({@link io.godwit.api.text.Printable}), or a
 * string of a megabyte (a hello may be 1 MiB, a state section's name 16 MiB).
 */
final class Printable {

    /** A whole message, with what it quotes. */
    static final int MAX_MESSAGE = 1000;
    /** One string of the peer's quoted in a message: a name, a workload. */
    static final int MAX_QUOTED = 200;

    private Printable() {}

    /** A message for {@code info migrate} or the log: escaped, at most {@value #MAX_MESSAGE} characters. */
    static String of(String text) {
        return io.godwit.api.text.Printable.bound(io.godwit.api.text.Printable.escape(text), MAX_MESSAGE);
    }

    /**
     * One string of the peer's, to quote in a message or log line: escaped, at most
     * {@value #MAX_QUOTED} characters, so that the message around it still shows whole.
     */
    static String quote(String peer) {
        return io.godwit.api.text.Printable.bound(io.godwit.api.text.Printable.escape(peer), MAX_QUOTED);
    }
}
