package io.godwit.coordinator.internal;

import io.godwit.api.policy.ConvergencePolicy;
import io.godwit.api.policy.Decision;
import io.godwit.api.policy.PassSnapshot;

/**
 * QEMU's rule, kept as a promise: switch over only when the whole expected downtime (final sync,
 * state, resume round trip and every pending byte at the sustained rate) fits the downtime-limit,
 * with a safety margin for the noise of a shared host. With auto-converge, throttle as QEMU does:
 * the initial step once the guest dirties faster than half the bandwidth, then one increment per
 * pass, up to the maximum.
 */
final class DefaultPolicy implements ConvergencePolicy {

    /** Fraction of the downtime-limit the estimate may use. */
    static final double MARGIN = 0.8;

    private final boolean autoConverge;
    private final int initial;
    private final int increment;
    private final int max;

    DefaultPolicy(boolean autoConverge, int initial, int increment, int max) {
        this.autoConverge = autoConverge;
        this.initial = initial;
        this.increment = increment;
        this.max = max;
    }

    /** Below this share of the limit, pending data is not worth another pass. */
    static final double SMALL = 0.1;

    @Override
    public Decision decide(PassSnapshot pass) {
        long budget = (long) (pass.downtimeLimitMs() * MARGIN);
        long expected = pass.expectedDowntimeMs();
        if (expected <= budget) {
            // It fits. Still, where the guest dirties far slower than we send (a static guest), one
            // more live pass shrinks the downtime to almost nothing: take it unless it is small already.
            boolean slowDirtying = pass.dirtyBytesPerSecond() < pass.bandwidthBytesPerSecond() / 4;
            long transferMs = expected - pass.stopCopyFixedMs();
            if (slowDirtying && transferMs > pass.downtimeLimitMs() * SMALL) {
                return Decision.CONTINUE;
            }
            return Decision.SWITCHOVER;
        }
        if (autoConverge && pass.pass() >= 3 && pass.dirtyBytesPerSecond() > pass.bandwidthBytesPerSecond() * 0.5) {
            int next = pass.throttlePercent() == 0 ? initial : Math.min(max, pass.throttlePercent() + increment);
            return Decision.throttle(next);
        }
        return Decision.CONTINUE;
    }
}
