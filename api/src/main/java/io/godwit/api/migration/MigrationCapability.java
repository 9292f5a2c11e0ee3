package io.godwit.api.migration;

import java.util.Arrays;
import java.util.Optional;

/** Migration capabilities, by QEMU's names where QEMU has the capability. */
public enum MigrationCapability {
    /** Send MIGRATION and MIGRATION_PASS events to listeners. */
    EVENTS("events", false),
    /** The destination answers on a return path: acknowledgements, errors, its resume time. */
    RETURN_PATH("return-path", true),
    /** The destination refuses a VM whose UUID differs from its own. */
    VALIDATE_UUID("validate-uuid", false),
    /** Stop in pre-switchover until {@code migrate_continue}. */
    PAUSE_BEFORE_SWITCHOVER("pause-before-switchover", false),
    /** Godwit's own: both sides hash all RAM at switchover and a mismatch fails the migration. */
    VERIFY_RAM("verify-ram", false),
    /** Throttle the vCPUs when the guest dirties memory faster than it can be sent. */
    AUTO_CONVERGE("auto-converge", false),
    /**
     * Godwit's own (libvirt's --copy-storage-all; QEMU's removed {@code block}): devices with iterative
     * state (disks) send it pass after pass with RAM, so the destination needs no shared storage.
     */
    COPY_STORAGE("copy-storage", false),
    /**
     * QEMU's: the migration may switch to postcopy ({@code migrate_start_postcopy}): the destination runs
     * the guest before all of RAM arrived and pulls missing pages on demand. Must be on at both ends.
     */
    POSTCOPY_RAM("postcopy-ram", false),
    /**
     * QEMU's (9.0): over a seekable transport ({@code file:}), every RAM page has a fixed offset in the
     * file, so however long a live guest runs the file never grows past its RAM plus metadata. Not with
     * postcopy-ram or copy-storage.
     */
    MAPPED_RAM("mapped-ram", false),
    /**
     * QEMU's: from the second pass on, a page sent before goes as an XOR-RLE delta against the copy kept
     * in a cache of {@code xbzrle-cache-size} bytes when that is smaller. Not with mapped-ram,
     * postcopy-ram or a transport that writes pages remotely.
     */
    XBZRLE("xbzrle", false),
    /**
     * QEMU's: RAM pages travel over {@code multifd-channels} extra channels, each with its own sender
     * and receiver thread, synced at the end of every pass. Must be on at both ends, before
     * {@code migrate_incoming} on the destination.
     */
    MULTIFD("multifd", false);

    private final String qemuName;
    private final boolean defaultValue;

    MigrationCapability(String qemuName, boolean defaultValue) {
        this.qemuName = qemuName;
        this.defaultValue = defaultValue;
    }

    public String qemuName() {
        return qemuName;
    }

    public boolean defaultValue() {
        return defaultValue;
    }

    /** The capability with this QEMU name. */
    public static Optional<MigrationCapability> byName(String name) {
        return Arrays.stream(values()).filter(c -> c.qemuName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return qemuName;
    }
}
