package io.godwit.api.device;

import io.godwit.api.memory.CpuMemory;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Guest code that drives a device: the guest's own device driver. The kernel runs it on vCPU 0's
 * thread between two quanta, while the VM runs, so every store it makes goes through that vCPU's
 * {@link CpuMemory} and is seen by the dirty tracker exactly as a store of the workload is.
 *
 * <p>A driver keeps its state in guest RAM (it is guest state and migrates with RAM), never in Java
 * fields that the destination would not have.
 */
@ConsumerType
public interface GuestDriver {

    /**
     * Runs the driver for a short while (it must return within about a millisecond). Called only on
     * vCPU 0's thread, never concurrently with itself, and never while the VM is stopped.
     */
    void run(CpuMemory memory);
}
