package io.godwit.itests;

import io.godwit.api.memory.RamBlock;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.BooleanSupplier;

/** Small helpers the VM tests share: progress, waiting, raw-path corruption, cleanup. */
final class Guests {

    private Guests() {}

    static long progress(Vm vm) {
        return vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
    }

    /** Waits until every vCPU has retired more than {@code writes} units of work. */
    static void awaitEachVcpuPast(Vm vm, long writes, long timeoutMillis) throws InterruptedException {
        await(() -> vm.cpus().stream().allMatch(c -> c.progress() > writes), timeoutMillis,
                "every vCPU of " + vm.name() + " past " + writes + " writes; have " + vm.cpus());
    }

    static void await(BooleanSupplier condition, long timeoutMillis, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static MemorySegment ram(Vm vm) {
        return vm.memory().blocks().get(0).raw();
    }

    static byte firstByte(Vm vm, long page) {
        return ram(vm).get(ValueLayout.JAVA_BYTE, page * RamBlock.PAGE_SIZE);
    }

    /** Writes one byte through the raw path (no dirty tracking), as a lost or broken page would look. */
    static void poke(Vm vm, long page, int offset, byte value) {
        ram(vm).set(ValueLayout.JAVA_BYTE, page * RamBlock.PAGE_SIZE + offset, value);
    }

    /** How the sweep oracle names a page in its examples. */
    static String pageLabel(long page) {
        return String.format("page 0x%x:", page * RamBlock.PAGE_SIZE);
    }

    static void destroyAll(VmManager vms) throws InterruptedException {
        for (Vm vm : vms.list()) {
            vms.destroy(vm.name());
        }
    }
}
