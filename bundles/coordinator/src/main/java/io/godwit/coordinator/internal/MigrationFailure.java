package io.godwit.coordinator.internal;

/** A migration cannot go on; the message is what {@code info migrate} shows as the error. */
final class MigrationFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    MigrationFailure(String message) {
        super(message);
    }

    MigrationFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
