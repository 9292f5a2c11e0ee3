package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import org.junit.jupiter.api.Test;

/** An 8 GiB guest in one block: larger than any Java array or ByteBuffer can address. */
class BigGuestTest {

    @Test
    void anEightGigabyteGuestIsSweptAndChecked() throws Exception {
        try (Host host = new Host()) {
            long t0 = System.nanoTime();
            Vm vm = host.create("big", 8L << 30, 2, "sweep");
            assertTrue(vm.memory().blocks().size() == 1 && vm.memory().size() == 8L << 30);
            long pages = vm.memory().pages();
            // Wait for one full pass, so every page of all 8 GiB has been written.
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (vm.cpus().stream().mapToLong(VcpuInfo::progress).sum() < pages && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            vm.stop(RunState.PAUSED);
            long written = vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
            long t1 = System.nanoTime();
            OracleVerdict v = vm.check();
            long t2 = System.nanoTime();
            System.out.printf("8 GiB: %d pages written in %.1f s, oracle in %.1f s: %s%n",
                    written, (t1 - t0) / 1e9, (t2 - t1) / 1e9, v);
            assertTrue(written >= pages, "one full pass over 8 GiB: " + written + " of " + pages);
            assertTrue(v.clean(), v.toString());
        }
    }
}
