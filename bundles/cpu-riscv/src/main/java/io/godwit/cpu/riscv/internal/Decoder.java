package io.godwit.cpu.riscv.internal;

/**
 * Decodes one RV64IM + Zicsr instruction word into the interpreter's packed form: a dense op id in
 * bits 0-7, rd in 8-12, rs1 in 13-17, rs2 in 18-22, the raw funct3 in 23-25 and the sign-extended
 * immediate in bits 32-63. Decoding once per code page keeps the interpreter's switch flat.
 */
final class Decoder {

    static final int ILLEGAL = 0;
    static final int LUI = 1, AUIPC = 2, JAL = 3, JALR = 4;
    static final int BEQ = 5, BNE = 6, BLT = 7, BGE = 8, BLTU = 9, BGEU = 10;
    static final int LB = 11, LH = 12, LW = 13, LD = 14, LBU = 15, LHU = 16, LWU = 17;
    static final int SB = 18, SH = 19, SW = 20, SD = 21;
    static final int ADDI = 22, SLTI = 23, SLTIU = 24, XORI = 25, ORI = 26, ANDI = 27, SLLI = 28, SRLI = 29,
            SRAI = 30;
    static final int ADD = 31, SUB = 32, SLL = 33, SLT = 34, SLTU = 35, XOR = 36, SRL = 37, SRA = 38, OR = 39,
            AND = 40;
    static final int ADDIW = 41, SLLIW = 42, SRLIW = 43, SRAIW = 44;
    static final int ADDW = 45, SUBW = 46, SLLW = 47, SRLW = 48, SRAW = 49;
    static final int MUL = 50, MULH = 51, MULHSU = 52, MULHU = 53, DIV = 54, DIVU = 55, REM = 56, REMU = 57;
    static final int MULW = 58, DIVW = 59, DIVUW = 60, REMW = 61, REMUW = 62;
    static final int FENCE = 63, FENCE_I = 64, ECALL = 65, EBREAK = 66, MRET = 67, WFI = 68, CSR = 69;

    private Decoder() {}

    static long decode(int w) {
        int opc = w & 0x7F;
        int rd = w >>> 7 & 31;
        int f3 = w >>> 12 & 7;
        int rs1 = w >>> 15 & 31;
        int rs2 = w >>> 20 & 31;
        int f7 = w >>> 25;
        int immI = w >> 20;
        int op;
        int imm = 0;
        switch (opc) {
            case 0x37 -> { op = LUI; imm = w & 0xFFFFF000; }
            case 0x17 -> { op = AUIPC; imm = w & 0xFFFFF000; }
            case 0x6F -> {
                op = JAL;
                imm = (w >> 31) << 20 | (w >>> 12 & 0xFF) << 12 | (w >>> 20 & 1) << 11 | (w >>> 21 & 0x3FF) << 1;
            }
            case 0x67 -> { op = f3 == 0 ? JALR : ILLEGAL; imm = immI; }
            case 0x63 -> {
                op = switch (f3) {
                    case 0 -> BEQ;
                    case 1 -> BNE;
                    case 4 -> BLT;
                    case 5 -> BGE;
                    case 6 -> BLTU;
                    case 7 -> BGEU;
                    default -> ILLEGAL;
                };
                imm = (w >> 31) << 12 | (w >>> 7 & 1) << 11 | (w >>> 25 & 0x3F) << 5 | (w >>> 8 & 0xF) << 1;
            }
            case 0x03 -> { op = f3 == 7 ? ILLEGAL : LB + f3; imm = immI; }
            case 0x23 -> { op = f3 > 3 ? ILLEGAL : SB + f3; imm = (w >> 25) << 5 | (w >>> 7 & 31); }
            case 0x13 -> { op = opImm(f3, f7); imm = f3 == 1 || f3 == 5 ? (w >>> 20 & 63) : immI; }
            case 0x1B -> { op = opImm32(f3, f7); imm = f3 == 0 ? immI : (w >>> 20 & 31); }
            case 0x33 -> op = op(f3, f7);
            case 0x3B -> op = op32(f3, f7);
            case 0x0F -> op = f3 == 0 ? FENCE : f3 == 1 ? FENCE_I : ILLEGAL;
            case 0x73 -> { op = system(w, f3); imm = w >>> 20; }
            default -> op = ILLEGAL;
        }
        if (op == ILLEGAL) {
            imm = w; // the word itself, for the error message
        }
        return (long) imm << 32 | (long) f3 << 23 | rs2 << 18 | rs1 << 13 | rd << 8 | op;
    }

    private static int opImm(int f3, int f7) {
        return switch (f3) {
            case 0 -> ADDI;
            case 2 -> SLTI;
            case 3 -> SLTIU;
            case 4 -> XORI;
            case 6 -> ORI;
            case 7 -> ANDI;
            case 1 -> (f7 >> 1) == 0 ? SLLI : ILLEGAL;
            case 5 -> (f7 >> 1) == 0 ? SRLI : (f7 >> 1) == 0x10 ? SRAI : ILLEGAL;
            default -> ILLEGAL;
        };
    }

    private static int opImm32(int f3, int f7) {
        return switch (f3) {
            case 0 -> ADDIW;
            case 1 -> f7 == 0 ? SLLIW : ILLEGAL;
            case 5 -> f7 == 0 ? SRLIW : f7 == 0x20 ? SRAIW : ILLEGAL;
            default -> ILLEGAL;
        };
    }

    private static int op(int f3, int f7) {
        if (f7 == 1) {
            return MUL + f3;
        }
        if (f7 == 0) {
            return switch (f3) {
                case 0 -> ADD;
                case 1 -> SLL;
                case 2 -> SLT;
                case 3 -> SLTU;
                case 4 -> XOR;
                case 5 -> SRL;
                case 6 -> OR;
                default -> AND;
            };
        }
        if (f7 == 0x20) {
            return f3 == 0 ? SUB : f3 == 5 ? SRA : ILLEGAL;
        }
        return ILLEGAL;
    }

    private static int op32(int f3, int f7) {
        if (f7 == 1) {
            return switch (f3) {
                case 0 -> MULW;
                case 4 -> DIVW;
                case 5 -> DIVUW;
                case 6 -> REMW;
                case 7 -> REMUW;
                default -> ILLEGAL;
            };
        }
        if (f7 == 0) {
            return f3 == 0 ? ADDW : f3 == 1 ? SLLW : f3 == 5 ? SRLW : ILLEGAL;
        }
        if (f7 == 0x20) {
            return f3 == 0 ? SUBW : f3 == 5 ? SRAW : ILLEGAL;
        }
        return ILLEGAL;
    }

    private static int system(int w, int f3) {
        if (f3 == 0) {
            return switch (w) {
                case 0x00000073 -> ECALL;
                case 0x00100073 -> EBREAK;
                case 0x30200073 -> MRET;
                case 0x10500073 -> WFI;
                default -> ILLEGAL;
            };
        }
        return f3 == 4 ? ILLEGAL : CSR;
    }
}
