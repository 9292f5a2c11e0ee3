package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationStatus;

/** Where a migration reports status changes and passes; the coordinator fans them out to listeners. */
interface Events {

    void status(String vm, MigrationStatus status);

    void pass(String vm, long pass);

    /** A precopy stopped converging (see StallWatch). */
    default void stalled(String vm, String why) {}
}
