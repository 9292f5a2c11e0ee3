package io.godwit.cpu.synthetic.internal;

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

    long start(int vcpu) {
        return pages * vcpu / vcpus;
    }

    long end(int vcpu) {
        return pages * (vcpu + 1) / vcpus;
    }
}
