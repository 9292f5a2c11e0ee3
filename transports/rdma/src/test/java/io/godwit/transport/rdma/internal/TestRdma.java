package io.godwit.transport.rdma.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.transport.Transport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** Helpers for the rdma tests: a transport with its own key folder, and file-backed RAM blocks. */
public final class TestRdma {

    private TestRdma() {}

    public static Transport transport(Path registryFolder) {
        return new RdmaTransport(2_000, registryFolder);
    }

    /** A RAM block backed by a shared file, as the kernel makes one for {@code --mem-path}. */
    public record FileBlock(String name, long base, MemorySegment raw, Path file) implements RamBlock {
        @Override
        public long size() {
            return raw.byteSize();
        }

        @Override
        public Optional<Path> backingFile() {
            return Optional.ofNullable(file);
        }
    }

    public static FileBlock fileBlock(Path file, long size, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
            return new FileBlock("pc.ram", 0, ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena), file);
        }
    }

    public static FileBlock anonymousBlock(long size, Arena arena) {
        return new FileBlock("pc.ram", 0, arena.allocate(size, 4096), null);
    }
}
