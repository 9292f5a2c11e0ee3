package io.godwit.api.migration;

import java.util.List;
import java.util.Objects;

/**
 * The record of a VM's current or last outgoing migration, pass by pass, for a report: its passes
 * and its switchover. The downtimes are in {@link MigrationInfo}. Times are in ms from the
 * {@code migrate} command.
 *
 * @param passes the precopy passes so far, in order
 * @param switchoverMs when the source stopped the guest for the switchover (precopy's stop-and-copy,
 *     or the start of postcopy); -1 before
 * @param switchoverBytes bytes sent from that stop until the destination could run the guest (the
 *     last dirty pages and the device state; in postcopy, what went before the guest resumed there)
 * @param postcopy whether the switchover started postcopy
 */
public record MigrationHistory(List<MigrationPass> passes, long switchoverMs, long switchoverBytes, boolean postcopy) {

    /** No outgoing migration (also what a destination's incoming migration has). */
    public static final MigrationHistory NONE = new MigrationHistory(List.of(), -1, 0, false);

    public MigrationHistory {
        passes = List.copyOf(Objects.requireNonNull(passes, "passes"));
    }
}
