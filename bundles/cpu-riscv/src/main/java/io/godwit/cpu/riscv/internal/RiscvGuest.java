package io.godwit.cpu.riscv.internal;

import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.memory.GuestMemory;
import java.util.function.Function;

/**
 * A RISC-V guest: a program image already in RAM at {@link RiscvBackend#LOAD_BASE}, the UART output
 * the host keeps for the VM, and the program's oracle.
 */
final class RiscvGuest implements Guest {

    private final String description;
    private final long ramSize;
    private final Function<GuestMemory, OracleVerdict> oracle;
    private final Console console = new Console();

    RiscvGuest(String description, long ramSize, Function<GuestMemory, OracleVerdict> oracle) {
        this.description = description;
        this.ramSize = ramSize;
        this.oracle = oracle;
    }

    @Override
    public Vcpu createVcpu(VcpuContext context) {
        return new Hart(context, context.index(), ramSize, console, RiscvBackend.LOAD_BASE);
    }

    @Override
    public OracleVerdict check(GuestMemory memory) {
        return oracle.apply(memory);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public String console() {
        return console.text();
    }
}
