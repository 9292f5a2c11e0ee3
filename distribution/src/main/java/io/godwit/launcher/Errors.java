package io.godwit.launcher;

/** Turns an exception into the one line a user sees; the stack trace goes to the log. */
final class Errors {

    private Errors() {
    }

    /**
     * The root cause's message: Gogo and reflection wrap a command's failure in layers whose own
     * messages only repeat it. A cause without a message is named by its type.
     */
    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (message == null || message.isBlank()) {
            return root.getClass().getSimpleName();
        }
        // One line: a multi-line message (a resolver report) is cut at its first line break.
        int eol = message.indexOf('\n');
        return eol < 0 ? message : message.substring(0, eol).strip() + " ...";
    }
}
