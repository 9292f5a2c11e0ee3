package io.godwit.api.migration;

/** QEMU's {@code MigrationStatus}, with QEMU's names. */
public enum MigrationStatus {
    NONE("none"),
    SETUP("setup"),
    CANCELLING("cancelling"),
    CANCELLED("cancelled"),
    ACTIVE("active"),
    POSTCOPY_ACTIVE("postcopy-active"),
    POSTCOPY_PAUSED("postcopy-paused"),
    POSTCOPY_RECOVER("postcopy-recover"),
    COMPLETED("completed"),
    FAILED("failed"),
    PRE_SWITCHOVER("pre-switchover"),
    DEVICE("device");

    private final String qemuName;

    MigrationStatus(String qemuName) {
        this.qemuName = qemuName;
    }

    /** The name QEMU prints, for example {@code pre-switchover}. */
    public String qemuName() {
        return qemuName;
    }

    /** True for states a migration does not leave by itself. */
    public boolean isFinal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED || this == NONE;
    }

    @Override
    public String toString() {
        return qemuName;
    }
}
