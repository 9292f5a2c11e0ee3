package io.godwit.virtio.common.internal;

import io.godwit.api.state.StateFormatException;

/**
 * The checks QEMU's {@code virtio_load} makes before a virtio device takes incoming state: a device
 * status of known bits only, and a vring base that agrees with the indices the guest left in RAM.
 * Called from a device's {@code loadState}, on the incoming migration thread; each throws a
 * {@link StateFormatException}, which fails the migration with the device's name.
 */
public final class VirtioLoad {

    /** The device status bits of the virtio spec (2.1): ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK,
     * DEVICE_NEEDS_RESET, FAILED. */
    public static final int STATUS_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80;

    private VirtioLoad() {}

    /** Refuses a status with a bit the virtio spec does not define. */
    public static void checkStatus(int status) {
        if ((status & ~STATUS_BITS) != 0) {
            throw new StateFormatException(String.format("device status 0x%x has bits virtio does not define", status));
        }
    }

    /**
     * QEMU's index check for one queue of {@code size} entries: the guest's avail index may run at
     * most {@code size} ahead of the vring base {@code lastAvail}, and the base at most {@code size}
     * ahead of the used index, all modulo 2^16.
     */
    public static void checkIndices(int queue, int size, int availIdx, int usedIdx, int lastAvail) {
        int heads = (availIdx - lastAvail) & 0xffff;
        int inUse = (lastAvail - usedIdx) & 0xffff;
        if (heads > size || inUse > size) {
            throw new StateFormatException(String.format("VQ %d size 0x%x guest index 0x%x inconsistent with host"
                    + " index 0x%x (used 0x%x)", queue, size, availIdx & 0xffff, lastAvail, usedIdx & 0xffff));
        }
    }
}
