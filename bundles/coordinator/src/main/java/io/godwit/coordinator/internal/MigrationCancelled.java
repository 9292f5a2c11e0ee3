package io.godwit.coordinator.internal;

/** Thrown on the migration thread when {@code migrate_cancel} was asked for. */
final class MigrationCancelled extends RuntimeException {

    private static final long serialVersionUID = 1L;

    MigrationCancelled() {
        super("cancelled", null, false, false);
    }
}
