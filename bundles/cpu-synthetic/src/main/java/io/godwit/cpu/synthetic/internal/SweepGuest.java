package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.vm.ByteSize;
import io.godwit.cpu.synthetic.ab.AbOracle;
import java.lang.foreign.MemorySegment;

/**
 * {@code sweep[:SIZE][,rate=N]}: QEMU's a-b guest. Each vCPU increments the first byte of every page
 * of its own part of the first SIZE bytes, pass after pass, as fast as it can or at N pages per second.
 */
final class SweepGuest implements Guest {

    private final WorkloadRange range;
    private final long ratePerVcpu;

    SweepGuest(WorkloadRange range, long ratePerVcpu) {
        this.range = range;
        this.ratePerVcpu = ratePerVcpu;
    }

    @Override
    public Vcpu createVcpu(VcpuContext context) {
        Ranges ranges = range.forVcpus(); // the devices reserved their memory by now
        int i = context.index();
        return new SweepVcpu(context, ranges.start(i), ranges.end(i), ratePerVcpu);
    }

    @Override
    public OracleVerdict check(GuestMemory memory) {
        MemorySegment ram = memory.blocks().get(0).raw();
        Ranges ranges = range.current();
        return AbOracle.check(ram, 0, ranges.pages(), ranges.vcpus(), memory.reservations());
    }

    @Override
    public String describe() {
        Ranges ranges = range.current();
        String rate = ratePerVcpu > 0 ? ", " + ratePerVcpu + " pages/s per vCPU" : "";
        return "sweep over " + ByteSize.format(ranges.pages() * Pages.SIZE) + " in " + ranges.vcpus()
                + (ranges.vcpus() == 1 ? " range" : " ranges") + rate;
    }
}
