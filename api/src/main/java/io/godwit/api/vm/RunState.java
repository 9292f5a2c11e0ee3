package io.godwit.api.vm;

/** A VM's run state, with QEMU's {@code RunState} names. */
public enum RunState {
    /** Created with its vCPUs parked, never run (QEMU's {@code -S}). */
    PRELAUNCH("prelaunch"),
    RUNNING("running"),
    /** Stopped by the user ({@code stop}). */
    PAUSED("paused"),
    /** Waiting for or receiving an incoming migration; it must not run. */
    INMIGRATE("inmigrate"),
    /** Stopped for the last phase of an outgoing migration. */
    FINISH_MIGRATE("finish-migrate"),
    /** Stopped after an outgoing migration completed; the destination runs the guest now. */
    POSTMIGRATE("postmigrate"),
    /** Stopped because the guest did something illegal; {@code info status} tells what and where. */
    GUEST_ERROR("guest-error"),
    /** The guest shut itself down. */
    SHUTDOWN("shutdown");

    private final String qemuName;

    RunState(String qemuName) {
        this.qemuName = qemuName;
    }

    public String qemuName() {
        return qemuName;
    }

    @Override
    public String toString() {
        return qemuName;
    }
}
