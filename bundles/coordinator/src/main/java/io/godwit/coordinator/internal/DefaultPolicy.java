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

    @Override
    public Decision decide(PassSnapshot pass) {
        if (pass.expectedDowntimeMs() <= pass.downtimeLimitMs() * MARGIN) {
            return Decision.SWITCHOVER;
        }
        if (autoConverge && pass.pass() >= 3 && pass.dirtyBytesPerSecond() > pass.bandwidthBytesPerSecond() * 0.5) {
            int next = pass.throttlePercent() == 0 ? initial : Math.min(max, pass.throttlePercent() + increment);
            return Decision.throttle(next);
        }
        return Decision.CONTINUE;
    }
}
