package io.godwit.cpu.riscv.internal;

/**
 * The MMIO page, the last 4 KiB of the 64-bit address space (one {@code lui} loads its base):
 * <ul>
 *   <li>{@code UART} (0xffff_ffff_ffff_f000): a store writes its low byte to the console; a load
 *       reads 0x60, a 16550's "transmitter empty" line status;</li>
 *   <li>{@code EXIT} (0xffff_ffff_ffff_f008): a store ends the guest with the stored value as its
 *       exit status (the VM shuts down, as SiFive's test finisher does);</li>
 *   <li>{@code HARTS} (0xffff_ffff_ffff_f010): a load reads the number of harts.</li>
 * </ul>
 * Any other address outside RAM is a bus error: the VM stops with the faulting pc.
 */
final class Mmio {

    static final long BASE = 0xFFFF_FFFF_FFFF_F000L;
    static final long UART = BASE;
    static final long EXIT = BASE + 8;
    static final long HARTS = BASE + 16;

    private Mmio() {}

    static long load(Hart hart, long a, int len) {
        if (a == UART) {
            return 0x60;
        }
        if (a == HARTS) {
            return hart.harts();
        }
        throw outside("load", a, len);
    }

    static void store(Hart hart, long a, int len, long v) {
        if (a == UART) {
            hart.uartWrite((byte) v);
        } else if (a == EXIT) {
            hart.requestExit(len == 8 ? v : v & ((1L << (8 * len)) - 1));
        } else {
            throw outside("store", a, len);
        }
    }

    private static Hart.GuestFault outside(String what, long a, int len) {
        return new Hart.GuestFault(String.format("%s of %d bytes outside RAM at 0x%x", what, len, a));
    }
}
