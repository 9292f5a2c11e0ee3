package io.godwit.kernel.internal;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import java.util.Map;

/** A VmManager wired by hand the way SCR wires it: synthetic CPU, bitmap tracker. */
final class Host implements AutoCloseable {

    final VmManagerImpl manager = new VmManagerImpl();

    Host() {
        manager.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        manager.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
    }

    Vm create(String name, long bytes, int vcpus, String workload) {
        return manager.create(VmSpec.builder(name).memory(bytes).vcpus(vcpus).workload(workload).build());
    }

    @Override
    public void close() throws InterruptedException {
        manager.deactivate();
    }
}
