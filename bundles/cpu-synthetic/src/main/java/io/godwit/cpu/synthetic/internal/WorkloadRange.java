package io.godwit.cpu.synthetic.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.MemoryReservation;
import io.godwit.api.memory.RamBlock;

/**
 * Where a workload writes: the size the user gave ({@code sweep:128M}), or, with none given, the RAM
 * below the devices' memory (a virtio-net rx queue takes the top of RAM). Devices reserve their memory
 * after the guest is made and before its vCPUs are, so the ranges are fixed when the first vCPU is
 * made; a given size over a device's memory is refused then.
 */
final class WorkloadRange {

    private final String workload;
    /** The pages the user gave, or 0: the RAM the devices leave free. */
    private final long givenPages;
    private final int vcpus;
    private final GuestMemory memory;
    private Ranges ranges;

    WorkloadRange(String workload, long givenPages, int vcpus, GuestMemory memory) {
        this.workload = workload;
        this.givenPages = givenPages;
        this.vcpus = vcpus;
        this.memory = memory;
        if (givenPages > 0) {
            new Ranges(givenPages, vcpus); // a range too small for the vCPUs fails at once
        }
    }

    /** The ranges the vCPUs write, fixed from the first vCPU on. */
    synchronized Ranges forVcpus() {
        if (ranges == null) {
            Ranges r = new Ranges(givenPages > 0 ? givenPages : freePages(), vcpus);
            r.requireClearOf(memory, workload);
            ranges = r;
        }
        return ranges;
    }

    /** The ranges as they are or would be now (before any vCPU exists, with the reservations so far). */
    synchronized Ranges current() {
        return ranges != null ? ranges : new Ranges(givenPages > 0 ? givenPages : freePages(), vcpus);
    }

    /** The pages from 0 up to the lowest device reservation, or all of RAM. */
    private long freePages() {
        long free = memory.pages();
        for (MemoryReservation r : memory.reservations()) {
            free = Math.min(free, r.gpa() / RamBlock.PAGE_SIZE);
        }
        if (free < vcpus) {
            throw new IllegalArgumentException(String.format("the %s workload has no RAM of its own: the devices'"
                    + " memory starts at 0x%x", workload, free * RamBlock.PAGE_SIZE));
        }
        return free;
    }
}
