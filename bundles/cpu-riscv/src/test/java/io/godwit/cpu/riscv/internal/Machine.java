package io.godwit.cpu.riscv.internal;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A real kernel with the riscv backend, for tests: VMs with real RAM and vCPU threads. */
final class Machine implements AutoCloseable {

    final VmManagerImpl vms = new VmManagerImpl();

    Machine() {
        vms.addCpuBackend(new RiscvBackend(), Map.of(CpuBackend.NAME, "riscv"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
    }

    Vm create(String name, String program, long mem, int vcpus) {
        return vms.create(VmSpec.builder(name).memory(mem).vcpus(vcpus).cpu("riscv").workload(program).build());
    }

    /** Runs assembly source (with lib.S) as a flat binary in a fresh VM. */
    Vm runSource(String name, String source, long mem) throws Exception {
        byte[] image = Assembler.assemble(source + "\n" + libSource(), RiscvBackend.LOAD_BASE, Map.of());
        Path f = Files.createTempFile("godwit-riscv", ".bin");
        Files.write(f, image);
        try {
            return create(name, f.toString(), mem, 1);
        } finally {
            Files.delete(f);
        }
    }

    static String libSource() throws Exception {
        try (var in = RiscvBackend.class.getResourceAsStream("lib.S")) {
            return new String(in.readAllBytes());
        }
    }

    /**
     * Waits until the guest has stopped by itself (shutdown, guest error) and its vCPU threads have
     * parked: the state changes on the vCPU thread a moment before it parks, and until then the
     * kernel refuses {@code check}.
     */
    static void awaitStopped(Vm vm, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (vm.state() == RunState.RUNNING && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        while (System.currentTimeMillis() < deadline) {
            try {
                vm.check();
                return;
            } catch (IllegalStateException stillParking) {
                Thread.sleep(5);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        vms.deactivate();
    }
}
