package io.godwit.api.device;

import io.godwit.api.dirty.DirtyLogSource;
import io.godwit.api.memory.GuestMemory;
import org.osgi.annotation.versioning.ProviderType;

/** What the kernel gives a device: its id, its VM's memory and the VM's dirty logging. */
@ProviderType
public interface DeviceContext {

    /** The device's id within its VM, for example {@code net0}. */
    String id();

    /** The VM's name. */
    String vmName();

    /** The VM's RAM. A device writes it through the DMA path, or registers a dirty log source. */
    GuestMemory memory();

    /**
     * Registers a source for memory the device writes behind the CPU's back (a vhost log). A device
     * that {@link Device#writesGuestMemoryDirectly() writes directly} and registered none is refused
     * when the VM starts.
     */
    AutoCloseable registerDirtyLogSource(DirtyLogSource source);

    /**
     * Installs the guest's driver for this device: the kernel runs it on vCPU 0 between quanta while
     * the VM runs (see {@link GuestDriver}). Closing the handle removes it.
     */
    AutoCloseable attachGuestDriver(GuestDriver driver);

    /**
     * Marks {@code [gpa, gpa + size)} as this device's (its rings and buffers), so that workload oracles
     * leave it to the device's oracle. Page aligned.
     *
     * @throws IllegalArgumentException when the range is outside RAM or overlaps another device's
     */
    void reserveMemory(long gpa, long size);
}
