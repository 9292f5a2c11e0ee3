package io.godwit.cpu.riscv.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The assembler's encodings against GNU as (riscv64-unknown-elf-as), and li over awkward constants. */
class AssemblerTest {

    private static int word(String line) {
        byte[] b = Assembler.assemble(line, 0x1000, Map.of());
        assertEquals(4, b.length, line);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    @Test
    void encodingsMatchGnuAs() {
        assertEquals(0x00128293, word("addi t0, t0, 1"));
        assertEquals(0x00530333, word("add t1, t1, t0"));
        assertEquals(0xffffffb7, word("lui t6, 0xfffff"));
        assertEquals(0x00afb423, word("sd a0, 8(t6)"));
        assertEquals(0x0002c303, word("lbu t1, 0(t0)"));
        assertEquals(0x40628333, word("sub t1, t0, t1"));
        assertEquals(0x02b50533, word("mul a0, a0, a1"));
        assertEquals(0x02b55533, word("divu a0, a0, a1"));
        assertEquals(0x4012d293, word("srai t0, t0, 1"));
        assertEquals(0x00d29293, word("slli t0, t0, 13"));
        assertEquals(0xf1402573, word("csrr a0, mhartid"));
        assertEquals(0x30529073, word("csrw mtvec, t0"));
        assertEquals(0x10500073, word("wfi"));
        assertEquals(0x00008067, word("ret"));
        assertEquals(0x0000006f, word("x: j x"));
        assertEquals(0xfe029ee3, wordAt("x: nop\nbnez t0, x", 1));
    }

    private static int wordAt(String src, int index) {
        byte[] b = Assembler.assemble(src, 0x1000, Map.of());
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(4 * index);
    }

    @Test
    void errorsNameTheLine() {
        var e = assertThrows(IllegalArgumentException.class, () -> Assembler.assemble("nop\nfoo t0", 0, Map.of()));
        assertTrue(e.getMessage().startsWith("line 2: unknown instruction 'foo'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Assembler.assemble("addi t0, t0, 5000", 0, Map.of()));
        assertTrue(e.getMessage().contains("does not fit in 12 bits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Assembler.assemble("beq t0, t1, nowhere", 0, Map.of()));
        assertTrue(e.getMessage().contains("unknown symbol 'nowhere'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Assembler.assemble("li t0, later\nlater:", 0, Map.of()));
        assertTrue(e.getMessage().contains("use la for labels"), e.getMessage());
    }

    @Test
    void liLoadsEveryConstantExactly() throws Exception {
        long[] values = {0, 1, -1, 2047, -2048, 2048, -2049, 0x7fffffffL, -0x80000000L, 0x80000000L, 0xffffffffL,
            0x7ffff800L, 0x123456789abcdef0L, 0x8000000000000000L, 0x7fffffffffffffffL, 0xcbf29ce484222325L,
            0x100000001b3L, 0xfffff000L, -4096};
        StringBuilder src = new StringBuilder("li s0, 0x80000\n");
        for (int i = 0; i < values.length; i++) {
            src.append("li t0, ").append(values[i]).append('\n').append("sd t0, ").append(8 * i).append("(s0)\n");
        }
        src.append("li a0, 0\nj exit\n");
        try (Machine m = new Machine()) {
            Vm vm = m.runSource("li", src.toString(), 1 << 20);
            Machine.awaitStopped(vm, 10_000);
            assertEquals(RunState.SHUTDOWN, vm.state(), vm.stateDetail());
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], Oracles.word(vm.memory(), 0x80000 + 8L * i), "li " + values[i]);
            }
        }
    }
}
