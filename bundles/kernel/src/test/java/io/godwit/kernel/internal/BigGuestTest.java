package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import org.junit.jupiter.api.Test;

/**
 * An 8 GiB guest in one block: larger than any Java array or ByteBuffer can address. A full pass over
 * 8 GiB needs seconds to minutes of first-touch page faults on a loaded host; what matters is that
 * stores beyond 4 GiB land and the oracle reads all of it.
 */
class BigGuestTest {

    @Test
    void anEightGigabyteGuestIsSweptAndChecked() throws Exception {
        try (Host host = new Host()) {
            long t0 = System.nanoTime();
            Vm vm = host.create("big", 8L << 30, 2, "sweep");
            assertTrue(vm.memory().blocks().size() == 1 && vm.memory().size() == 8L << 30);
            // Let both vCPUs write for a while: vCPU 1 sweeps from 4 GiB up, beyond any int offset.
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (vm.cpus().get(1).progress() < 1024 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Thread.sleep(1000);
            vm.stop(RunState.PAUSED);
            long written = vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
            long t1 = System.nanoTime();
            OracleVerdict v = vm.check();
            long t2 = System.nanoTime();
            System.out.printf("8 GiB: %d pages written in %.1f s, oracle over all 8 GiB in %.1f s: %s%n",
                    written, (t1 - t0) / 1e9, (t2 - t1) / 1e9, v);
            assertTrue(vm.cpus().get(1).progress() >= 1024, "vCPU 1 wrote above 4 GiB");
            byte first = vm.memory().blocks().get(0).raw().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4L << 30);
            assertTrue(first != 0, "the first page above 4 GiB was written through the CPU path");
            assertEquals(2097152, v.pagesChecked());
            assertTrue(v.clean(), v.toString());
        }
    }
}
