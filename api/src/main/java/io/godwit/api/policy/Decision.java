package io.godwit.api.policy;

/**
 * A policy's answer.
 *
 * @param action what to do
 * @param throttlePercent the throttle to apply with {@link Action#THROTTLE}, 0 to 99
 */
public record Decision(Action action, int throttlePercent) {

    public enum Action {
        /** Another pass. */
        CONTINUE,
        /** Stop the VM and send what is left. */
        SWITCHOVER,
        /** Another pass, with the vCPUs throttled to {@code throttlePercent}. */
        THROTTLE
    }

    public static final Decision CONTINUE = new Decision(Action.CONTINUE, 0);
    public static final Decision SWITCHOVER = new Decision(Action.SWITCHOVER, 0);

    public Decision {
        if (throttlePercent < 0 || throttlePercent > 99) {
            throw new IllegalArgumentException("throttle must be 0..99: " + throttlePercent);
        }
    }

    public static Decision throttle(int percent) {
        return new Decision(Action.THROTTLE, percent);
    }
}
