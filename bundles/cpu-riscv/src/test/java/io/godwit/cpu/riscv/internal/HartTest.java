package io.godwit.cpu.riscv.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The interpreter on a real kernel: programs, their console, their exit, and guest errors. */
class HartTest {

    private final Machine machine = new Machine();

    @AfterEach
    void close() throws InterruptedException {
        machine.close();
    }

    @Test
    void hashPrintsTheReferenceResultAndExits() throws Exception {
        Vm vm = machine.create("h", "hash:words=65536,steps=300000", 16 << 20, 2);
        Machine.awaitStopped(vm, 60_000);
        assertEquals(RunState.SHUTDOWN, vm.state(), vm.stateDetail());
        assertEquals(String.format("hash: %016x%n", Reference.hash(65536, 300000)), vm.console());
        assertTrue(vm.stateDetail().contains("status 0"), vm.stateDetail());
        assertTrue(vm.check().clean(), vm.check().toString());
        assertEquals(1, vm.check().pagesChecked());
    }

    @Test
    void mixedMatchesItsReplayWhileRunningAndAtTheEnd() throws Exception {
        Vm vm = machine.create("m", "mixed:words=65536,iters=3000000", 16 << 20, 1);
        Thread.sleep(50);
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().clean(), vm.check().toString());
        vm.cont();
        Machine.awaitStopped(vm, 60_000);
        assertEquals(RunState.SHUTDOWN, vm.state(), vm.stateDetail());
        var verdict = vm.check();
        assertTrue(verdict.clean(), verdict.toString());
        assertTrue(verdict.summary().contains("finished"), verdict.summary());
        Reference.Mixed ref = new Reference.Mixed(65536);
        for (int i = 0; i < 3_000_000; i++) {
            ref.step();
        }
        assertEquals(String.format("..%nmixed: %016x%n", ref.checksum()), vm.console());
    }

    @Test
    void abPassesTheSweepOracleOnEveryHart() throws Exception {
        Vm vm = machine.create("a", "ab:8M,mark=4", 16 << 20, 2);
        long deadline = System.currentTimeMillis() + 30_000;
        while (!vm.console().contains("BB") && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        vm.stop(RunState.PAUSED);
        var verdict = vm.check();
        assertTrue(verdict.clean(), verdict.toString());
        assertTrue(vm.console().startsWith("BB"), vm.console());
        assertTrue(vm.cpus().get(1).progress() > 0);
    }

    @Test
    void idleHaltsEveryHartAndTouchesNothing() throws Exception {
        Vm vm = machine.create("i", "idle", 4 << 20, 2);
        long deadline = System.currentTimeMillis() + 30_000;
        while (!vm.cpus().stream().allMatch(c -> c.state().equals("halted")) && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(vm.cpus().stream().allMatch(c -> c.progress() > 0 && c.progress() < 1000), vm.cpus().toString());
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().clean(), vm.check().toString());
    }

    @Test
    void anIllegalInstructionStopsTheVmWithItsPc() throws Exception {
        Vm vm = machine.runSource("bad", "nop\nnop\n.word 0xffffffff\n", 1 << 20);
        Machine.awaitStopped(vm, 10_000);
        assertEquals(RunState.GUEST_ERROR, vm.state());
        assertTrue(vm.stateDetail().contains("illegal instruction 0xffffffff"), vm.stateDetail());
        assertTrue(vm.stateDetail().contains("pc 0x1008"), vm.stateDetail());
    }

    @Test
    void anAccessOutsideRamStopsTheVmWithItsPc() throws Exception {
        Vm vm = machine.runSource("oob", "li t0, 0x40000000\nsd t0, 0(t0)\n", 1 << 20);
        Machine.awaitStopped(vm, 10_000);
        assertEquals(RunState.GUEST_ERROR, vm.state());
        assertTrue(vm.stateDetail().contains("store of 8 bytes outside RAM at 0x40000000"), vm.stateDetail());
        assertTrue(vm.stateDetail().contains("pc 0x1004"), vm.stateDetail());
        Vm jump = machine.runSource("jump", "li t0, 0x7fff0000\njr t0\n", 1 << 20);
        Machine.awaitStopped(jump, 10_000);
        assertTrue(jump.stateDetail().contains("instruction fetch outside RAM"), jump.stateDetail());
        assertTrue(jump.stateDetail().contains("pc 0x7fff0000"), jump.stateDetail());
    }

    @Test
    void missingOrOversizedBinariesAreRefusedAtCreation() throws Exception {
        var e = assertThrows(IllegalArgumentException.class,
                () -> machine.create("x", "/no/such/file.bin", 1 << 20, 1));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        var f = java.nio.file.Files.createTempFile("big", ".bin");
        java.nio.file.Files.write(f, new byte[2 << 20]);
        try {
            e = assertThrows(IllegalArgumentException.class, () -> machine.create("y", f.toString(), 1 << 20, 1));
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        } finally {
            java.nio.file.Files.delete(f);
        }
        // A device has no size worth trusting and never ends: refused before anything is read.
        e = assertThrows(IllegalArgumentException.class, () -> machine.create("z", "/dev/zero", 1 << 20, 1));
        assertTrue(e.getMessage().contains("is not a regular file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> machine.create("z", "hash", 4 << 20, 1));
        assertTrue(e.getMessage().contains("needs"), e.getMessage());
    }

    @Test
    void arithmeticFollowsTheSpec() throws Exception {
        String src = """
                li   s0, 0x80000
                li   t0, -7
                li   t1, 2
                div  t2, t0, t1
                sd   t2, 0(s0)        # -3
                rem  t2, t0, t1
                sd   t2, 8(s0)        # -1
                div  t2, t0, zero
                sd   t2, 16(s0)       # -1
                remu t2, t0, zero
                sd   t2, 24(s0)       # -7
                li   t3, 0x7fffffff
                addiw t2, t3, 1
                sd   t2, 32(s0)       # 0xffffffff80000000
                li   t4, -1
                mulhu t2, t4, t4
                sd   t2, 40(s0)       # 0xfffffffffffffffe
                mulhsu t2, t0, t4
                sd   t2, 48(s0)       # -7 * (2^64-1) >> 64 = -7
                sraiw t2, t3, 4
                sd   t2, 56(s0)
                li   t5, 0x123456789abcdef0
                sd   t5, 64(s0)
                csrr t2, mhartid
                sd   t2, 72(s0)
                li   a0, 3
                j    exit
                """;
        Vm vm = machine.runSource("alu", src, 1 << 20);
        Machine.awaitStopped(vm, 10_000);
        assertEquals(RunState.SHUTDOWN, vm.state(), vm.stateDetail());
        assertTrue(vm.stateDetail().contains("status 3"), vm.stateDetail());
        long[] expected = {-3, -1, -1, -7, 0xffffffff80000000L, 0xfffffffffffffffeL, -7, 0x7ffffff, 0x123456789abcdef0L, 0};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], Oracles.word(vm.memory(), 0x80000 + 8L * i), "word " + i);
        }
    }
}
