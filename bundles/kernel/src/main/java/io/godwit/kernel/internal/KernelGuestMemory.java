package io.godwit.kernel.internal;

import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.api.memory.MemoryReservation;
import io.godwit.api.memory.RamBlock;
import io.godwit.privatefiles.internal.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest RAM of one VM. One block today ({@code pc.ram}, at guest physical 0), in a shared arena so
 * that vCPU, migration and device threads can all reach it; closing frees it.
 */
final class KernelGuestMemory implements GuestMemory, AutoCloseable {

    static final String MAIN_BLOCK = "pc.ram";

    private static final Logger LOG = LoggerFactory.getLogger(KernelGuestMemory.class);

    private final Arena arena;
    private final List<KernelRamBlock> blocks;
    private final long size;
    private final DmaDirtyLog dmaLog;
    private final List<MemoryReservation> reservations = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Set by the first DMA write: from then on RAM is not known to be all zero. */
    private volatile boolean vmmWritten;
    /** The postcopy in progress, or null: every access path asks it before it reaches RAM. */
    volatile KernelPostcopy postcopy;
    private int vcpus = 1;

    private KernelGuestMemory(Arena arena, List<KernelRamBlock> blocks) {
        this.arena = arena;
        this.blocks = blocks;
        this.size = blocks.stream().mapToLong(KernelRamBlock::size).sum();
        this.dmaLog = new DmaDirtyLog(size >>> RamBlock.PAGE_SHIFT);
    }

    /**
     * Maps {@code size} bytes: anonymous memory, or the file at {@code memPath} (created owner-only,
     * or grown to the size) mapped shared, so another process of this user sees the same bytes.
     */
    static KernelGuestMemory map(long size, Path memPath, boolean prealloc) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = memPath == null ? Mmap.anonymous(size, prealloc, arena) : mapFile(memPath, size, arena);
            if (memPath != null && prealloc) {
                seg.load(); // fault the file's pages in now
            }
            return new KernelGuestMemory(arena, List.of(new KernelRamBlock(MAIN_BLOCK, 0, seg, memPath)));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A missing file is created 0600 (the guest's memory is nobody else's to read); an existing one
     * was the user's choice and keeps its mode, with a warning when others can reach it.
     */
    private static MemorySegment mapFile(Path path, long size, Arena arena) {
        PrivateFiles.Opened file;
        try {
            file = PrivateFiles.openReadWrite(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + path + ": " + e.getMessage(), e);
        }
        if (!file.created()) {
            PrivateFiles.exposure(path).ifPresent(how -> LOG.warn("RAM file {} is open to other users ({}): they can"
                    + " read the guest's memory; Godwit leaves the mode of a file it did not create as it is", path, how));
        }
        try (FileChannel ch = file.channel()) {
            if (ch.size() < size) {
                ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
            }
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<RamBlock> blocks() {
        return List.copyOf(blocks);
    }

    List<KernelRamBlock> kernelBlocks() {
        return blocks;
    }

    @Override
    public Optional<RamBlock> block(String name) {
        return blocks.stream().filter(b -> b.name().equals(name)).map(b -> (RamBlock) b).findFirst();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public RamBlock blockAt(long gpa) {
        return find(gpa, 1);
    }

    KernelRamBlock find(long gpa, long length) {
        for (KernelRamBlock b : blocks) {
            if (b.contains(gpa, length)) {
                return b;
            }
        }
        throw new GuestMemoryFault(gpa, length);
    }

    @Override
    public void dmaWrite(long gpa, MemorySegment src) {
        long len = src.byteSize();
        KernelRamBlock b = find(gpa, len);
        awaitPresent(gpa, len);
        MemorySegment.copy(src, 0, b.raw(), gpa - b.base(), len);
        if (len > 0) {
            vmmWritten = true;
            dmaLog.mark(gpa >>> RamBlock.PAGE_SHIFT, ((gpa + len - 1) >>> RamBlock.PAGE_SHIFT) + 1);
        }
    }

    @Override
    public boolean vmmWritten() {
        return vmmWritten;
    }

    @Override
    public void dmaRead(long gpa, MemorySegment dst) {
        long len = dst.byteSize();
        KernelRamBlock b = find(gpa, len);
        awaitPresent(gpa, len);
        MemorySegment.copy(b.raw(), gpa - b.base(), dst, 0, len);
    }

    /** The DMA path's part in postcopy: a device's access to a missing page waits for it. */
    private void awaitPresent(long gpa, long len) {
        KernelPostcopy pc = postcopy;
        if (pc != null && len > 0) {
            pc.fault(gpa, len, -1);
        }
    }

    /** How many vCPUs the VM has, for postcopy's per-vCPU blocked time. Set once, at creation. */
    void setVcpus(int vcpus) {
        this.vcpus = vcpus;
    }

    @Override
    public synchronized io.godwit.api.memory.PostcopyRam startPostcopy(io.godwit.api.dirty.DirtyBitmap missing,
            io.godwit.api.memory.PageRequester requester) {
        if (postcopy != null) {
            throw new IllegalStateException("postcopy is already on");
        }
        KernelPostcopy pc = new KernelPostcopy(this, missing, requester, vcpus);
        postcopy = pc;
        return pc;
    }

    @Override
    public io.godwit.api.memory.PostcopyRam postcopy() {
        return postcopy;
    }

    synchronized void postcopyEnded(KernelPostcopy pc) {
        if (postcopy == pc) {
            postcopy = null;
        }
    }

    DmaDirtyLog dmaLog() {
        return dmaLog;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public List<MemoryReservation> reservations() {
        return List.copyOf(reservations);
    }

    /** Reserves a range for a device; refuses ranges outside RAM or overlapping another reservation. */
    synchronized void reserve(MemoryReservation r) {
        if (r.gpa() + r.size() > size) {
            throw new IllegalArgumentException(String.format("0x%x + %d bytes is outside RAM", r.gpa(), r.size()));
        }
        for (MemoryReservation o : reservations) {
            if (r.gpa() < o.gpa() + o.size() && o.gpa() < r.gpa() + r.size()) {
                throw new IllegalArgumentException(String.format("0x%x + %d bytes overlaps the memory of %s",
                        r.gpa(), r.size(), o.owner()));
            }
        }
        reservations.add(r);
    }

    void unreserve(String owner) {
        reservations.removeIf(r -> r.owner().equals(owner));
    }
}
