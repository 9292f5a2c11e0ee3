package io.godwit.cpu.riscv.internal;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.GuestConfig;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.vm.ByteSize;
import io.godwit.cpu.synthetic.ab.AbOracle;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;

/**
 * The RISC-V backend: RV64IM + Zicsr harts in machine mode running a program from RAM. The built-in
 * programs are assembly sources in this bundle, assembled when a guest is created; a flat binary can
 * be loaded from a file instead. Every program starts at {@link #LOAD_BASE} with a0 = hart id,
 * a1 = RAM size and sp = the top of a 64 KiB stack per hart below the end of RAM.
 */
@Component(property = CpuBackend.NAME + "=" + RiscvBackend.NAME)
public class RiscvBackend implements CpuBackend {

    static final String NAME = "riscv";
    static final long LOAD_BASE = 0x1000;
    /** Built-in programs keep their results here, and their buffers from {@link #BUF}. */
    static final long RESULT = 0x80000;
    static final long CTR = 0x80020;
    static final long BUF = 0x100000;

    @Override
    public Guest createGuest(GuestConfig config) {
        ProgramSpec spec = ProgramSpec.parse(config.workload());
        GuestMemory memory = config.memory();
        long ram = memory.size();
        if (spec.isPath()) {
            return binary(Path.of(spec.name()), memory);
        }
        return switch (spec.name()) {
            case "idle" -> idle(spec, memory);
            case "ab" -> ab(spec, memory, config.vcpus());
            case "hash" -> hash(spec, memory);
            case "mixed" -> mixed(spec, memory);
            default -> throw new IllegalArgumentException("unknown program '" + spec.name() + "' (riscv programs: "
                    + ProgramSpec.USAGE + ")");
        };
    }

    private Guest ab(ProgramSpec spec, GuestMemory memory, int vcpus) {
        spec.allowOnly("range", "mark");
        long ram = memory.size();
        long range = spec.size("range", ram - BUF);
        if (range < 4096L * vcpus || BUF + range > ram) {
            throw new IllegalArgumentException("ab range " + ByteSize.format(range) + " does not fit in "
                    + ByteSize.format(ram) + " of RAM above " + ByteSize.format(BUF) + " (one page per vCPU at least)");
        }
        long pages = range / 4096;
        load(memory, "ab", Map.of("RANGE_BASE", BUF, "RANGE_PAGES", pages, "MARK", spec.number("mark", 16)));
        return new RiscvGuest("riscv ab over " + ByteSize.format(pages * 4096) + " in " + vcpus
                + (vcpus == 1 ? " range" : " ranges"), ram,
                m -> AbOracle.check(m.blocks().get(0).raw(), BUF / 4096, pages, vcpus, m.reservations()));
    }

    private Guest idle(ProgramSpec spec, GuestMemory memory) {
        spec.allowOnly();
        load(memory, "idle", Map.of());
        return new RiscvGuest("riscv idle", memory.size(), Oracles::zeroFromBuf);
    }

    private Guest hash(ProgramSpec spec, GuestMemory memory) {
        spec.allowOnly("words", "steps");
        int words = powerOfTwo(spec, "words", 1 << 20);
        long steps = spec.number("steps", 2L << 20);
        fits(memory, BUF + 8L * words, "hash");
        load(memory, "hash", Map.of("BUF", BUF, "WORDS", (long) words, "STEPS", steps, "RESULT", RESULT));
        return new RiscvGuest("riscv hash of " + ByteSize.format(8L * words) + ", " + steps + " steps",
                memory.size(), Oracles.hashOracle(RESULT, words, steps));
    }

    private Guest mixed(ProgramSpec spec, GuestMemory memory) {
        spec.allowOnly("words", "iters");
        int words = powerOfTwo(spec, "words", 1 << 19);
        long iters = spec.number("iters", 4_000_000);
        fits(memory, BUF + 8L * words, "mixed");
        load(memory, "mixed", Map.of("BUF", BUF, "WORDS", (long) words, "ITERS", iters, "CTR", CTR, "RESULT",
                RESULT));
        return new RiscvGuest("riscv mixed over " + ByteSize.format(8L * words) + ", " + iters + " iterations",
                memory.size(), Oracles.mixedOracle(BUF, words, CTR, RESULT, iters));
    }

    /**
     * The oracles replay the programs in Java on host heap (8 bytes a word): 2^24 words is 128 MiB of
     * heap per check at most, 2^28 would be 2 GiB.
     */
    static final int MAX_WORDS = 1 << 24;

    private static int powerOfTwo(ProgramSpec spec, String key, int dflt) {
        long n = spec.number(key, dflt);
        if (Long.bitCount(n) != 1 || n > MAX_WORDS) {
            throw new IllegalArgumentException("program option " + key + " must be a power of two up to 2^24: " + n);
        }
        return (int) n;
    }

    private static void fits(GuestMemory memory, long needed, String program) {
        if (needed > memory.size()) {
            throw new IllegalArgumentException(program + " needs " + ByteSize.format(needed) + " of RAM; the VM has "
                    + ByteSize.format(memory.size()));
        }
    }

    /** Flat binaries are read into the host's heap before they are copied into RAM. */
    static final long MAX_BINARY = 1L << 30;

    /** A flat binary: loaded at {@link #LOAD_BASE}; it has no oracle. */
    private Guest binary(Path file, GuestMemory memory) {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // A device or FIFO has no size to check and may never end (/dev/zero, a pipe).
            throw new IllegalArgumentException("guest binary " + file + " is not a regular file");
        }
        byte[] image;
        try {
            long size = Files.size(file);
            if (size > MAX_BINARY) {
                throw new IllegalArgumentException("guest binary " + file + " (" + ByteSize.format(size)
                        + ") is larger than the " + ByteSize.format(MAX_BINARY) + " a flat binary may have");
            }
            if (size > memory.size() - LOAD_BASE) {
                throw new IllegalArgumentException("guest binary " + file + " (" + ByteSize.format(size)
                        + ") does not fit in the VM's " + ByteSize.format(memory.size()) + " of RAM above 0x1000");
            }
            image = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("guest binary " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read guest binary " + file + ": " + e.getMessage());
        }
        memory.dmaWrite(LOAD_BASE, MemorySegment.ofArray(image));
        return new RiscvGuest("riscv binary " + file.getFileName() + " (" + ByteSize.format(image.length) + ")",
                memory.size(), m -> new OracleVerdict(0, 0, List.of(), "a raw binary has no oracle"));
    }

    /** Assembles a built-in program with its parameters and writes it to RAM. */
    static byte[] load(GuestMemory memory, String program, Map<String, Long> params) {
        byte[] image = assemble(program, params);
        memory.dmaWrite(LOAD_BASE, MemorySegment.ofArray(image));
        return image;
    }

    static byte[] assemble(String program, Map<String, Long> params) {
        String source = resource(program + ".S") + "\n" + resource("lib.S");
        byte[] image = Assembler.assemble(source, LOAD_BASE, params);
        if (LOAD_BASE + image.length > RESULT) {
            throw new IllegalStateException("program " + program + " overlaps its result area");
        }
        return image;
    }

    private static String resource(String name) {
        try (InputStream in = RiscvBackend.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("program source " + name + " is missing from the bundle");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String describeWorkloads() {
        return ProgramSpec.USAGE;
    }
}
