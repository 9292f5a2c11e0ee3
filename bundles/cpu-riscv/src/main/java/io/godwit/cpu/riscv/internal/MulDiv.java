package io.godwit.cpu.riscv.internal;

import static io.godwit.cpu.riscv.internal.Decoder.*;

/** The M extension's high multiplies and divisions, with RISC-V's rules for zero and overflow. */
final class MulDiv {

    private MulDiv() {}

    static long apply(int op, long a, long b) {
        return switch (op) {
            case MULH -> Math.multiplyHigh(a, b);
            case MULHU -> Math.unsignedMultiplyHigh(a, b);
            case MULHSU -> Math.multiplyHigh(a, b) + (b < 0 ? a : 0);
            case DIV -> b == 0 ? -1 : (a == Long.MIN_VALUE && b == -1) ? a : a / b;
            case DIVU -> b == 0 ? -1 : Long.divideUnsigned(a, b);
            case REM -> b == 0 ? a : (a == Long.MIN_VALUE && b == -1) ? 0 : a % b;
            case REMU -> b == 0 ? a : Long.remainderUnsigned(a, b);
            case DIVW -> divw((int) a, (int) b);
            case DIVUW -> (int) b == 0 ? -1 : (int) Integer.divideUnsigned((int) a, (int) b);
            case REMW -> remw((int) a, (int) b);
            case REMUW -> (int) b == 0 ? (int) a : (int) Integer.remainderUnsigned((int) a, (int) b);
            default -> throw new IllegalStateException("not a mul/div op: " + op);
        };
    }

    private static long divw(int a, int b) {
        if (b == 0) {
            return -1;
        }
        return (a == Integer.MIN_VALUE && b == -1) ? a : a / b;
    }

    private static long remw(int a, int b) {
        if (b == 0) {
            return a;
        }
        return (a == Integer.MIN_VALUE && b == -1) ? 0 : a % b;
    }
}
