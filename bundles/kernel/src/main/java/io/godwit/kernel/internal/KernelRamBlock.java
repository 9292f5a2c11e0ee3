package io.godwit.kernel.internal;

import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;

/** A RAM block: a name, a place in the guest physical address space and the bytes behind it. */
record KernelRamBlock(String name, long base, MemorySegment raw, Path file) implements RamBlock {

    @Override
    public long size() {
        return raw.byteSize();
    }

    @Override
    public Optional<Path> backingFile() {
        return Optional.ofNullable(file);
    }

    /** Anonymous blocks (private mappings) ask the page tables; a file's absent page may hold data. */
    @Override
    public void untouchedPages(long firstIndex, long[] words) {
        if (file == null) {
            PageMap.untouched(raw, firstIndex, words);
        } else {
            RamBlock.super.untouchedPages(firstIndex, words);
        }
    }

    boolean contains(long gpa, long length) {
        return gpa >= base && length >= 0 && gpa - base <= raw.byteSize() - length;
    }
}
