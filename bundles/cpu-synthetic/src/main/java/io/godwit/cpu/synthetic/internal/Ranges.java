package io.godwit.cpu.synthetic.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.MemoryReservation;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.vm.ByteSize;

/**
 * Splits {@code pages} pages from page 0 into one contiguous range per vCPU, as QEMU's a-b test
 * gives each vCPU its own part of guest memory: no two vCPUs write the same page.
 */
record Ranges(long pages, int vcpus) {

    Ranges {
        if (pages < vcpus) {
            throw new IllegalArgumentException(
                    "the workload's range (" + pages + " pages) is smaller than one page per vCPU");
        }
    }

    /**
     * Refuses a range over memory a device reserved (its rings and buffers): the workload would
     * overwrite them. Called when the vCPUs are made, after the devices reserved their memory.
     */
    void requireClearOf(GuestMemory memory, String workload) {
        for (MemoryReservation r : memory.reservations()) {
            if (r.gpa() < pages * RamBlock.PAGE_SIZE) {
                throw new IllegalArgumentException(String.format("the %s workload writes the first %s of RAM, over"
                        + " %s's memory at 0x%x: give it a size below that (e.g. %s:%s)", workload,
                        ByteSize.format(pages * RamBlock.PAGE_SIZE), r.owner(), r.gpa(), workload,
                        ByteSize.format(Math.max(RamBlock.PAGE_SIZE, r.gpa() & -(1L << 20)))));
            }
        }
    }

    long start(int vcpu) {
        return pages * vcpu / vcpus;
    }

    long end(int vcpu) {
        return pages * (vcpu + 1) / vcpus;
    }
}
