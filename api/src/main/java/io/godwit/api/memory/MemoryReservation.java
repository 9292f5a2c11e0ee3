package io.godwit.api.memory;

import java.util.Objects;

/**
 * A range of guest RAM the guest handed to a device (its rings and buffers), as an e820 or driver
 * DMA allocation would: workload oracles leave it to the device's own oracle.
 *
 * @param gpa first guest physical address, page aligned
 * @param size bytes, a multiple of the page size
 * @param owner who holds it, for example {@code net0}
 */
public record MemoryReservation(long gpa, long size, String owner) {

    public MemoryReservation {
        Objects.requireNonNull(owner, "owner");
        if (gpa < 0 || size <= 0 || (gpa & (RamBlock.PAGE_SIZE - 1)) != 0 || (size & (RamBlock.PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException(String.format("bad reservation 0x%x + %d for %s", gpa, size, owner));
        }
    }

    /** True when page {@code page} (a guest page frame number) lies inside. */
    public boolean containsPage(long page) {
        long a = page << RamBlock.PAGE_SHIFT;
        return a >= gpa && a < gpa + size;
    }
}
