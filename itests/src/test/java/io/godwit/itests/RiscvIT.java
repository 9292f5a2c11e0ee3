package io.godwit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** The riscv backend in Felix, through the shell: a program's console, registers, memory and a guest error. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RiscvIT extends GodwitTestSupport {

    @Inject
    private CommandProcessor processor;

    @Inject
    private VmManager vms;

    private Shell shell;

    @Configuration
    public Option[] config() {
        return baseOptions();
    }

    @Before
    public void openShell() throws Exception {
        Guests.await(() -> vms.cpuBackends().contains("riscv"), 10_000, "the riscv backend");
        shell = new Shell(processor);
    }

    @After
    public void closeShell() throws InterruptedException {
        shell.close();
        Guests.destroyAll(vms);
    }

    /** {@code hash}'s computation, written again here from its description in hash.S. */
    private static long hash(int words, long steps) {
        long[] buf = new long[words];
        long x = 0x9e3779b97f4a7c15L;
        for (int i = 0; i < words; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buf[i] = x;
        }
        long h = 0xcbf29ce484222325L;
        int idx = 0;
        for (long s = 0; s < steps; s++) {
            h = (h ^ buf[idx]) * 0x100000001b3L;
            buf[idx] += h;
            idx = (int) ((h >>> 17) & (words - 1));
        }
        return h;
    }

    @Test
    public void hashPrintsItsResultAndTheShellShowsConsoleRegistersAndMemory() throws Exception {
        String created = shell.run("vm_create r --memory 16M --cpu riscv --guest hash:words=65536,steps=100000");
        assertTrue(created, created.startsWith("created VM r: 16 MiB, 1 vCPU, riscv hash"));
        Vm vm = vms.get("r").orElseThrow();
        Guests.await(() -> vm.state() == RunState.SHUTDOWN, 60_000, "the hash program to exit");
        String expected = String.format("hash: %016x", hash(65536, 100000));
        assertEquals(expected, shell.run("info console r"));
        assertEquals("VM status: paused (shutdown): guest exited with status 0", shell.run("info status r"));
        String regs = shell.run("info registers r --vcpu 0");
        assertTrue(regs, regs.startsWith("CPU#0\npc       "));
        assertTrue(regs, regs.contains(expected.substring(6))); // the hash is still in s2
        // hash.S stores the result and a done flag at 0x80000
        assertEquals(String.format("0000000000080000: 0x%s 0x0000000000000001", expected.substring(6)),
                shell.run("xp /2xg 0x80000"));
    }

    @Test
    public void anIllegalInstructionStopsOnlyThatVmWithItsPc() throws Exception {
        Path bin = Files.createTempFile("godwit-bad", ".bin");
        try {
            Files.write(bin, new byte[] {0x13, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            shell.run("vm_create good --memory 4M --cpu riscv --guest ab:2M");
            shell.run("vm_create bad --memory 4M --cpu riscv --guest " + bin);
            Vm bad = vms.get("bad").orElseThrow();
            Guests.await(() -> bad.state() == RunState.GUEST_ERROR, 30_000, "the guest error");
            assertEquals("VM status: paused (guest-error): vcpu 0: illegal instruction 0xffffffff (pc 0x1004)",
                    shell.run("info status bad"));
            assertEquals("VM status: running", shell.run("info status good"));
        } finally {
            Files.delete(bin);
        }
        Throwable e = shell.fail("vm_create missing --memory 4M --cpu riscv --guest /no/such/guest.bin");
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
        }
        assertTrue(messages.toString(), messages.toString().contains("guest binary /no/such/guest.bin does not exist"));
        assertTrue(vms.get("missing").isEmpty());
    }
}
