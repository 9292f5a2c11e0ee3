package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationParameter;

/**
 * QEMU's max-bandwidth: a budget of limit/10 bytes per 100 ms slot; a sender over budget sleeps to
 * the end of the slot. The limit is read live each slot. Lifted for stop-and-copy; in postcopy the
 * limit is max-postcopy-bandwidth instead.
 */
final class RateLimit {

    private static final long SLOT_NANOS = 100_000_000L;

    private final MigrationSettings settings;
    private long slotStart = System.nanoTime();
    private long slotBytes;
    private boolean lifted;
    private MigrationParameter parameter = MigrationParameter.MAX_BANDWIDTH;

    RateLimit(MigrationSettings settings) {
        this.settings = settings;
    }

    void lift() {
        lifted = true;
    }

    /** From now on the limit is max-postcopy-bandwidth (0: none). */
    void postcopy() {
        lifted = false;
        parameter = MigrationParameter.MAX_POSTCOPY_BANDWIDTH;
    }

    /** Accounts {@code bytes} just sent and sleeps when the slot's budget is spent. */
    void sent(long bytes) throws InterruptedException {
        slotBytes += bytes;
        long limit = settings.parameter(parameter);
        if (lifted || limit <= 0) {
            return;
        }
        long now = System.nanoTime();
        if (now - slotStart >= SLOT_NANOS) {
            slotStart = now;
            slotBytes = bytes;
        }
        if (slotBytes >= limit / 10) {
            long sleep = slotStart + SLOT_NANOS - now;
            if (sleep > 0) {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            }
            slotStart = System.nanoTime();
            slotBytes = 0;
        }
    }
}
