package io.godwit.cpu.riscv.internal;

/** Zicsr: the machine-mode CSRs a bare-metal program uses; an unknown CSR is an illegal instruction. */
final class Csrs {

    /** RV64 with I, M: MXL=2 in the top bits. */
    static final long MISA = 2L << 62 | 1L << ('I' - 'A') | 1L << ('M' - 'A');

    private Csrs() {}

    /** Executes a decoded CSR instruction (funct3 in bits 23-25, the CSR number as immediate). */
    static void execute(Hart h, long d) {
        int rd = (int) (d >>> 8) & 31;
        int rs1 = (int) (d >>> 13) & 31;
        int f3 = (int) (d >>> 23) & 7;
        int csr = (int) (d >>> 32) & 0xFFF;
        long old = read(h, csr);
        long src = f3 >= 5 ? rs1 : h.x[rs1]; // the immediate forms carry a 5-bit value in rs1
        boolean writes = (f3 & 3) == 1 || rs1 != 0;
        if (writes) {
            long value = switch (f3 & 3) {
                case 1 -> src;
                case 2 -> old | src;
                default -> old & ~src;
            };
            write(h, csr, value);
        }
        if (rd != 0) {
            h.x[rd] = old;
        }
    }

    private static long read(Hart h, int csr) {
        return switch (csr) {
            case 0x300 -> h.mstatus;
            case 0x301 -> MISA;
            case 0x304 -> h.mie;
            case 0x305 -> h.mtvec;
            case 0x340 -> h.mscratch;
            case 0x341 -> h.mepc;
            case 0x342 -> h.mcause;
            case 0x343 -> h.mtval;
            case 0x344 -> h.mip;
            // The clock is the instruction count: deterministic, and it migrates with the hart.
            case 0xB00, 0xB02, 0xC00, 0xC01, 0xC02 -> h.instret + h.blockRetired;
            case 0xF11, 0xF12, 0xF13 -> 0; // vendor, architecture, implementation ids
            case 0xF14 -> h.hartId();
            default -> throw new Hart.GuestFault(String.format("illegal instruction: unknown CSR 0x%03x", csr));
        };
    }

    private static void write(Hart h, int csr, long v) {
        if ((csr >>> 10) == 3) {
            throw new Hart.GuestFault(String.format("illegal instruction: CSR 0x%03x is read-only", csr));
        }
        switch (csr) {
            case 0x300 -> h.mstatus = v;
            case 0x301 -> { } // misa: WARL, fixed here
            case 0x304 -> h.mie = v;
            case 0x305 -> h.mtvec = v;
            case 0x340 -> h.mscratch = v;
            case 0x341 -> h.mepc = v & ~3L;
            case 0x342 -> h.mcause = v;
            case 0x343 -> h.mtval = v;
            case 0x344 -> h.mip = v;
            default -> throw new Hart.GuestFault(String.format("illegal instruction: CSR 0x%03x is not writable", csr));
        }
    }
}
