package io.godwit.qmp.internal;

/**
 * A command's failure as QMP reports it: {@code {"error": {"class": ..., "desc": ...}}}. QEMU uses
 * only a few classes; {@code GenericError} for almost everything, {@code CommandNotFound} for an unknown
 * command and for anything but {@code qmp_capabilities} before the negotiation.
 */
final class QmpError extends RuntimeException {

    static final String GENERIC = "GenericError";
    static final String COMMAND_NOT_FOUND = "CommandNotFound";

    private final String errorClass;

    QmpError(String errorClass, String desc) {
        super(desc, null, false, false); // an answer to the client, not a bug: no stack trace
        this.errorClass = errorClass;
    }

    static QmpError generic(String desc) {
        return new QmpError(GENERIC, desc);
    }

    static QmpError notFound(String desc) {
        return new QmpError(COMMAND_NOT_FOUND, desc);
    }

    String errorClass() {
        return errorClass;
    }

    String desc() {
        return getMessage();
    }
}
