package io.godwit.benchmarks.probe;

import io.godwit.api.vm.ByteSize;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;

/**
 * The raw channel under the rdma transport: a plain copy of SIZE bytes from a pre-faulted buffer into
 * a shared file mapping, in 1 MiB copies, as the simulated HCA does for each posted write, with no
 * queue, completions, frames or dirty tracking. Both memories are faulted in before the clock runs
 * (a destination created with {@code --mem-prealloc}, pinned by its registration); the source buffer
 * is the kind of memory guest RAM is ({@link RamLikeBuffer}).
 */
@Component(service = RawShm.class, property = {"osgi.command.scope=bench", "osgi.command.function=raw_shm"})
public final class RawShm {

    private static final long CHUNK = 1 << 20;

    @Descriptor("copy SIZE bytes into a shared file mapping at FILE (created, then deleted) and print the rate")
    public String raw_shm(@Descriptor("a file for the shared mapping, e.g. /dev/shm/raw.ram") String file,
            @Descriptor("bytes to copy, e.g. 1G") String size) throws IOException {
        long bytes = ByteSize.parse(size);
        if (bytes <= 0 || bytes % RawStream.PAGE != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 4 KiB: " + size);
        }
        Path path = Path.of(file);
        try (Arena arena = Arena.ofConfined();
                FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(1), bytes - 1);
            MemorySegment shared = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
            shared.fill((byte) 0); // faults every page of the destination in, outside the clock
            MemorySegment buffer = RawStream.prefault(RamLikeBuffer.allocate(bytes, arena));
            long t0 = System.nanoTime();
            for (long off = 0; off < bytes; off += CHUNK) {
                MemorySegment.copy(buffer, off, shared, off, Math.min(CHUNK, bytes - off));
            }
            long nanos = System.nanoTime() - t0;
            for (long page = 0; page < bytes / RawStream.PAGE; page++) {
                if (shared.get(ValueLayout.JAVA_LONG_UNALIGNED, page * RawStream.PAGE) != page + 1) {
                    throw new IOException("page " + page + " was copied wrong");
                }
            }
            return RawStream.rate("raw shared-memory copy", bytes, nanos) + ", every page checked";
        } finally {
            Files.deleteIfExists(path);
        }
    }
}
