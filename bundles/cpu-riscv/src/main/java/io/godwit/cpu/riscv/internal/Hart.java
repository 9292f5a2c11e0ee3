package io.godwit.cpu.riscv.internal;

import static io.godwit.cpu.riscv.internal.Decoder.*;

import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.cpu.VcpuExit;
import io.godwit.api.memory.CpuMemory;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;

/**
 * One RV64IM + Zicsr hart in machine mode: the interpreter (QEMU's TCG, without the code generator).
 *
 * <p>Speed comes from three things: each code page is decoded once into packed longs ({@link
 * CodeCache}, dropped when the guest stores to it), the hot loop is one flat switch over dense op ids
 * with the pc and registers in locals, and the exit request and clock are looked at only every
 * {@link #BLOCK} instructions (a few microseconds of guest work).
 *
 * <p>Every access goes through the vCPU's {@link CpuMemory}, so stores pass the dirty tracker. RAM is
 * [0, size); the last page of the address space is the MMIO page ({@link Mmio}); anything else is a
 * bus error and stops the VM with the faulting pc.
 */
final class Hart implements Vcpu {

    /** Instructions between two looks at the exit request and the clock. */
    static final int BLOCK = 8192;
    static final int STATE_VERSION = 1;

    private final VcpuContext context;
    private final CpuMemory mem;
    private final int hartId;
    private final long ramSize;
    private final Console console;
    private final CodeCache code;

    final long[] x = new long[32];
    long pc;
    long mstatus, mtvec, mepc, mcause, mtval, mscratch, mie, mip;
    long instret;
    boolean exitPending;
    long exitStatus;

    /** Set by a store that hit a cached code page or a device: the loop re-fetches its page. */
    private boolean sideEffect;
    /** Instructions retired in the current block before a system instruction, for CSR reads. */
    int blockRetired;
    private volatile long retired;

    Hart(VcpuContext context, int hartId, long ramSize, Console console, long entry) {
        this.context = context;
        this.mem = context.memory();
        this.hartId = hartId;
        this.ramSize = ramSize;
        this.console = console;
        this.code = new CodeCache();
        this.pc = entry;
        x[10] = hartId; // a0: hart id, a1: RAM size, sp: top of this hart's 64 KiB stack
        x[11] = ramSize;
        x[2] = ramSize - (long) hartId * 65536;
    }

    @Override
    public VcpuExit run(long quantumNanos) {
        if (exitPending) {
            return shutdown();
        }
        long deadline = System.nanoTime() + quantumNanos;
        try {
            while (true) {
                VcpuExit e = block(BLOCK);
                if (e != null) {
                    return e;
                }
                if (context.exitRequested() || System.nanoTime() - deadline >= 0) {
                    return VcpuExit.QUANTUM;
                }
            }
        } finally {
            retired = instret;
        }
    }

    private VcpuExit shutdown() {
        return VcpuExit.shutdown("guest exited with status " + exitStatus);
    }

    /** Runs up to {@code budget} instructions; null when the budget ran out, else why it stopped. */
    private VcpuExit block(int budget) {
        final long[] x = this.x;
        long pc = this.pc;
        long[] page = null;
        long pageBase = -1;
        int n = 0;
        try {
            for (; n < budget; n++) {
                if ((pc & ~0xFFCL) != pageBase) {
                    page = fetchPage(pc);
                    pageBase = pc & ~0xFFFL;
                }
                long d = page[(int) (pc & 0xFFF) >>> 2];
                int rd = (int) (d >>> 8) & 31;
                int rs1 = (int) (d >>> 13) & 31;
                int rs2 = (int) (d >>> 18) & 31;
                long imm = d >> 32;
                switch ((int) d & 0xFF) {
                    case LUI -> { x[rd] = imm; pc += 4; }
                    case AUIPC -> { x[rd] = pc + imm; pc += 4; }
                    case JAL -> { x[rd] = pc + 4; pc += imm; }
                    case JALR -> { long t = (x[rs1] + imm) & ~1L; x[rd] = pc + 4; pc = t; }
                    case BEQ -> pc += x[rs1] == x[rs2] ? imm : 4;
                    case BNE -> pc += x[rs1] != x[rs2] ? imm : 4;
                    case BLT -> pc += x[rs1] < x[rs2] ? imm : 4;
                    case BGE -> pc += x[rs1] >= x[rs2] ? imm : 4;
                    case BLTU -> pc += Long.compareUnsigned(x[rs1], x[rs2]) < 0 ? imm : 4;
                    case BGEU -> pc += Long.compareUnsigned(x[rs1], x[rs2]) >= 0 ? imm : 4;
                    case LB -> { x[rd] = load8(x[rs1] + imm); pc += 4; }
                    case LH -> { x[rd] = load16(x[rs1] + imm); pc += 4; }
                    case LW -> { x[rd] = load32(x[rs1] + imm); pc += 4; }
                    case LD -> { x[rd] = load64(x[rs1] + imm); pc += 4; }
                    case LBU -> { x[rd] = load8(x[rs1] + imm) & 0xFFL; pc += 4; }
                    case LHU -> { x[rd] = load16(x[rs1] + imm) & 0xFFFFL; pc += 4; }
                    case LWU -> { x[rd] = load32(x[rs1] + imm) & 0xFFFFFFFFL; pc += 4; }
                    case SB, SH, SW, SD -> {
                        store(x[rs1] + imm, x[rs2], (int) d & 0xFF);
                        pc += 4;
                        if (sideEffect) {
                            sideEffect = false;
                            pageBase = -1;
                            if (exitPending) {
                                budget = n + 1; // this store is the last instruction
                            }
                        }
                    }
                    case ADDI -> { x[rd] = x[rs1] + imm; pc += 4; }
                    case SLTI -> { x[rd] = x[rs1] < imm ? 1 : 0; pc += 4; }
                    case SLTIU -> { x[rd] = Long.compareUnsigned(x[rs1], imm) < 0 ? 1 : 0; pc += 4; }
                    case XORI -> { x[rd] = x[rs1] ^ imm; pc += 4; }
                    case ORI -> { x[rd] = x[rs1] | imm; pc += 4; }
                    case ANDI -> { x[rd] = x[rs1] & imm; pc += 4; }
                    case SLLI -> { x[rd] = x[rs1] << imm; pc += 4; }
                    case SRLI -> { x[rd] = x[rs1] >>> imm; pc += 4; }
                    case SRAI -> { x[rd] = x[rs1] >> imm; pc += 4; }
                    case ADD -> { x[rd] = x[rs1] + x[rs2]; pc += 4; }
                    case SUB -> { x[rd] = x[rs1] - x[rs2]; pc += 4; }
                    case SLL -> { x[rd] = x[rs1] << x[rs2]; pc += 4; }
                    case SLT -> { x[rd] = x[rs1] < x[rs2] ? 1 : 0; pc += 4; }
                    case SLTU -> { x[rd] = Long.compareUnsigned(x[rs1], x[rs2]) < 0 ? 1 : 0; pc += 4; }
                    case XOR -> { x[rd] = x[rs1] ^ x[rs2]; pc += 4; }
                    case SRL -> { x[rd] = x[rs1] >>> x[rs2]; pc += 4; }
                    case SRA -> { x[rd] = x[rs1] >> x[rs2]; pc += 4; }
                    case OR -> { x[rd] = x[rs1] | x[rs2]; pc += 4; }
                    case AND -> { x[rd] = x[rs1] & x[rs2]; pc += 4; }
                    case ADDIW -> { x[rd] = (int) (x[rs1] + imm); pc += 4; }
                    case SLLIW -> { x[rd] = (int) x[rs1] << imm; pc += 4; }
                    case SRLIW -> { x[rd] = (int) x[rs1] >>> imm; pc += 4; }
                    case SRAIW -> { x[rd] = (int) x[rs1] >> imm; pc += 4; }
                    case ADDW -> { x[rd] = (int) (x[rs1] + x[rs2]); pc += 4; }
                    case SUBW -> { x[rd] = (int) (x[rs1] - x[rs2]); pc += 4; }
                    case SLLW -> { x[rd] = (int) x[rs1] << (x[rs2] & 31); pc += 4; }
                    case SRLW -> { x[rd] = (int) x[rs1] >>> (x[rs2] & 31); pc += 4; }
                    case SRAW -> { x[rd] = (int) x[rs1] >> (x[rs2] & 31); pc += 4; }
                    case MUL -> { x[rd] = x[rs1] * x[rs2]; pc += 4; }
                    case MULW -> { x[rd] = (int) x[rs1] * (int) x[rs2]; pc += 4; }
                    case MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU, DIVW, DIVUW, REMW, REMUW -> {
                        x[rd] = MulDiv.apply((int) d & 0xFF, x[rs1], x[rs2]);
                        pc += 4;
                    }
                    case FENCE -> pc += 4;
                    case FENCE_I -> { code.clear(); pageBase = -1; pc += 4; }
                    case WFI -> {
                        pc += 4;
                        n++;
                        x[0] = 0;
                        this.pc = pc;
                        instret += n;
                        return VcpuExit.HALT;
                    }
                    case ECALL, EBREAK, MRET, CSR -> {
                        blockRetired = n; // CSR reads of instret see the instructions before this one
                        pc = system((int) d & 0xFF, d, pc);
                        pageBase = -1;
                    }
                    default -> throw new GuestFault(illegal(imm));
                }
                x[0] = 0;
            }
        } catch (GuestFault f) {
            this.pc = pc;
            instret += n;
            return VcpuExit.guestError(pc, f.getMessage());
        }
        this.pc = pc;
        instret += n;
        return exitPending ? shutdown() : null;
    }

    private static String illegal(long word) {
        return String.format("illegal instruction 0x%08x", word & 0xFFFFFFFFL);
    }

    private long[] fetchPage(long pc) {
        if ((pc & 3) != 0) {
            throw new GuestFault(String.format("instruction address misaligned: 0x%x", pc));
        }
        if (Long.compareUnsigned(pc, ramSize - 4) > 0) {
            throw new GuestFault(String.format("instruction fetch outside RAM at 0x%x", pc));
        }
        long[] page = code.get(pc >>> 12);
        return page != null ? page : code.fill(pc >>> 12, mem);
    }

    // ---- memory ---------------------------------------------------------------------------

    private long load8(long a) {
        return Long.compareUnsigned(a, ramSize - 1) <= 0 ? mem.load8(a) : Mmio.load(this, a, 1);
    }

    private long load16(long a) {
        return Long.compareUnsigned(a, ramSize - 2) <= 0 ? mem.load16(a) : Mmio.load(this, a, 2);
    }

    private long load32(long a) {
        return Long.compareUnsigned(a, ramSize - 4) <= 0 ? mem.load32(a) : Mmio.load(this, a, 4);
    }

    private long load64(long a) {
        return Long.compareUnsigned(a, ramSize - 8) <= 0 ? mem.load64(a) : Mmio.load(this, a, 8);
    }

    private void store(long a, long v, int op) {
        int len = 1 << (op - SB);
        if (Long.compareUnsigned(a, ramSize - len) > 0) {
            Mmio.store(this, a, len, v);
            sideEffect = true;
            return;
        }
        switch (op) {
            case SB -> mem.store8(a, (byte) v);
            case SH -> mem.store16(a, (short) v);
            case SW -> mem.store32(a, (int) v);
            default -> mem.store64(a, v);
        }
        if (code.invalidate(a >>> 12) | code.invalidate((a + len - 1) >>> 12)) {
            sideEffect = true; // self-modifying code: the page is decoded again on the next fetch
        }
    }

    void uartWrite(byte b) {
        console.write(b);
    }

    void requestExit(long status) {
        exitPending = true;
        exitStatus = status;
    }

    // ---- system instructions and CSRs -------------------------------------------------------

    /** ECALL, EBREAK, MRET and the CSR instructions; returns the next pc. */
    private long system(int op, long d, long pc) {
        switch (op) {
            case ECALL, EBREAK -> {
                if (mtvec == 0) {
                    throw new GuestFault((op == ECALL ? "ecall" : "ebreak") + " with no trap handler (mtvec is 0)");
                }
                mepc = pc;
                mcause = op == ECALL ? 11 : 3;
                mtval = 0;
                return mtvec & ~3L;
            }
            case MRET -> {
                return mepc;
            }
            default -> {
                Csrs.execute(this, d);
                return pc + 4;
            }
        }
    }

    int harts() {
        return context.vcpuCount();
    }

    int hartId() {
        return hartId;
    }

    // ---- Vcpu -------------------------------------------------------------------------------

    @Override
    public long progress() {
        return retired;
    }

    @Override
    public String progressUnit() {
        return "insns";
    }

    @Override
    public int stateVersion() {
        return STATE_VERSION;
    }

    @Override
    public void saveState(StateOutput out) {
        out.writeInt(hartId);
        out.writeLong(pc);
        for (int i = 1; i < 32; i++) {
            out.writeLong(x[i]);
        }
        for (long c : new long[] {mstatus, mtvec, mepc, mcause, mtval, mscratch, mie, mip}) {
            out.writeLong(c);
        }
        out.writeLong(instret);
        out.writeBoolean(exitPending);
        out.writeLong(exitStatus);
        if (hartId == 0) {
            // The UART is the guest's one device; until devices migrate on their own, hart 0 carries it.
            out.subsection("uart", s -> s.writeBytes(console.snapshot()));
        }
    }

    @Override
    public void loadState(StateInput in, int version) {
        if (version != STATE_VERSION) {
            throw new StateFormatException("riscv hart state version " + version + " is not supported ("
                    + STATE_VERSION + ")");
        }
        int id = in.readInt();
        if (id != hartId) {
            throw new StateFormatException("riscv hart state is for hart " + id + ", not " + hartId);
        }
        pc = in.readLong();
        for (int i = 1; i < 32; i++) {
            x[i] = in.readLong();
        }
        mstatus = in.readLong();
        mtvec = in.readLong();
        mepc = in.readLong();
        mcause = in.readLong();
        mtval = in.readLong();
        mscratch = in.readLong();
        mie = in.readLong();
        mip = in.readLong();
        instret = in.readLong();
        exitPending = in.readBoolean();
        exitStatus = in.readLong();
        if (hartId == 0) {
            in.subsection("uart").ifPresent(s -> console.restore(s.readBytes(Console.CAPACITY)));
        }
        retired = instret;
        code.clear(); // RAM came from the source: nothing decoded here is known to match it
    }

    @Override
    public String describeState() {
        StringBuilder s = new StringBuilder();
        s.append(String.format("pc       %016x  mhartid %d  instret %d%n", pc, hartId, instret));
        for (int i = 0; i < 32; i++) {
            s.append(String.format("x%-2d/%-4s %016x", i, Abi.NAMES[i], x[i]));
            s.append(i % 4 == 3 ? "\n" : "  ");
        }
        s.append(String.format("mstatus %016x mtvec %016x mepc %016x mcause %016x%n", mstatus, mtvec, mepc,
                mcause));
        s.append(String.format("mtval   %016x mscratch %016x mie %016x mip %016x%n", mtval, mscratch, mie, mip));
        if (exitPending) {
            s.append("exit pending, status ").append(exitStatus).append('\n');
        }
        return s.toString();
    }

    /** A guest error: raised inside the interpreter, turned into {@link VcpuExit#guestError}. */
    static final class GuestFault extends RuntimeException {
        GuestFault(String message) {
            super(message, null, false, false);
        }
    }
}
