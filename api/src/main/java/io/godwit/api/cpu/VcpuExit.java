package io.godwit.api.cpu;

import java.util.Objects;

/**
 * Why {@link Vcpu#run} returned (KVM's exit reasons, reduced to what the kernel acts on).
 *
 * @param reason the kind of exit
 * @param pc the guest program counter for {@link Reason#GUEST_ERROR}, otherwise 0
 * @param message a one-line explanation for errors and shutdowns, otherwise empty
 */
public record VcpuExit(Reason reason, long pc, String message) {

    public enum Reason {
        /** The quantum ran out or an exit was requested: run again. */
        QUANTUM,
        /** The guest has nothing to do (an idle loop, WFI): the kernel parks the vCPU until kicked. */
        HALT,
        /**
         * The guest is busy but paces itself: it waits for time to pass before its next work (a rate
         * limit). Parked as for {@link #HALT}, but it counts as running, not halted.
         */
        WAIT,
        /** The guest asked to shut down; {@code message} holds its exit status. */
        SHUTDOWN,
        /** The guest did something illegal (bad instruction, access outside RAM): the VM stops. */
        GUEST_ERROR
    }

    public static final VcpuExit QUANTUM = new VcpuExit(Reason.QUANTUM, 0, "");
    public static final VcpuExit HALT = new VcpuExit(Reason.HALT, 0, "");
    public static final VcpuExit WAIT = new VcpuExit(Reason.WAIT, 0, "");

    public VcpuExit {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
    }

    public static VcpuExit guestError(long pc, String message) {
        return new VcpuExit(Reason.GUEST_ERROR, pc, message);
    }

    public static VcpuExit shutdown(String message) {
        return new VcpuExit(Reason.SHUTDOWN, 0, message);
    }
}
