package io.godwit.api.memory;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One named, contiguous region of guest RAM (QEMU's {@code RAMBlock}), laid out at a guest physical
 * address and made of 4 KiB pages.
 *
 * <p>Implemented by the kernel. Blocks never move or change size while their VM exists. Sizes above
 * 2 GiB are normal: every offset is a {@code long}.
 */
@ProviderType
public interface RamBlock {

    /** Target page size in bytes. Dirty logging and migration work in units of this. */
    int PAGE_SIZE = 4096;

    /** log2 of {@link #PAGE_SIZE}. */
    int PAGE_SHIFT = 12;

    /** The block's id string, unique within its VM (QEMU's idstr, for example {@code pc.ram}). */
    String name();

    /** Guest physical address of the block's first byte; a multiple of {@link #PAGE_SIZE}. */
    long base();

    /** Size in bytes; a multiple of {@link #PAGE_SIZE}. */
    long size();

    /** Number of pages in the block. */
    default long pages() {
        return size() >>> PAGE_SHIFT;
    }

    /** Guest page frame number of the block's first page: its first bit in a VM's dirty bitmap. */
    default long firstPage() {
        return base() >>> PAGE_SHIFT;
    }

    /**
     * The raw path: the block's bytes, with no dirty tracking. For migration, oracles and device
     * models that register their own {@code DirtyLogSource}; never for guest stores, which must take
     * the CPU path ({@link CpuMemory}) so the active tracker sees them.
     *
     * <p>The segment is valid until the VM is destroyed and may be used from any thread.
     */
    MemorySegment raw();

    /** The shared file that backs the block, when it is file backed; another process can map it. */
    Optional<Path> backingFile();

    /**
     * The pages from {@code firstIndex} (an index in this block) that read as zero because nothing ever
     * wrote them: never faulted in and not swapped out. Sets bit {@code i % 64} of {@code words[i / 64]}
     * for each such page {@code firstIndex + i} and clears every other bit (pages past the block's end
     * are not marked). A page not marked may be zero all the same.
     *
     * <p>It reads no page and faults none in: the host's page tables say it. A migration's first pass
     * uses it to skip reading RAM the guest never touched, which costs seconds per GiB of page faults on
     * a busy host. A page written after the call is not seen: only a caller with dirty logging on, which
     * will send such a page again, may take an unmarked answer as final.
     *
     * <p>The default marks none. Any thread.
     *
     * @since 1.4
     */
    default void untouchedPages(long firstIndex, long[] words) {
        java.util.Arrays.fill(words, 0L);
    }
}
