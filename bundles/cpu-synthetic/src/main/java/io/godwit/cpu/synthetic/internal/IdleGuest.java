package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.cpu.VcpuExit;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import io.godwit.api.vm.ByteSize;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** {@code idle}: the guest touches nothing. Oracle: every page is still zero. */
final class IdleGuest implements Guest {

    private final long size;

    IdleGuest(long size) {
        this.size = size;
    }

    @Override
    public Vcpu createVcpu(VcpuContext context) {
        return new IdleVcpu();
    }

    @Override
    public OracleVerdict check(GuestMemory memory) {
        MemorySegment ram = memory.blocks().get(0).raw();
        long pages = ram.byteSize() / Pages.SIZE;
        long bad = 0;
        List<String> examples = new ArrayList<>();
        for (long p = 0; p < pages; p++) {
            if (!Pages.zeroFrom(ram, p, 0)) {
                bad++;
                if (examples.size() < 5) {
                    examples.add(String.format("page 0x%x: not zero", p * Pages.SIZE));
                }
            }
        }
        return new OracleVerdict(pages, bad, examples, pages + " pages, all expected zero");
    }

    @Override
    public String describe() {
        return "idle over " + ByteSize.format(size);
    }

    private static final class IdleVcpu implements Vcpu {
        @Override
        public VcpuExit run(long quantumNanos) {
            return VcpuExit.HALT;
        }

        @Override
        public long progress() {
            return 0;
        }

        @Override
        public String progressUnit() {
            return "writes";
        }

        @Override
        public int stateVersion() {
            return 1;
        }

        @Override
        public void saveState(StateOutput out) {}

        @Override
        public void loadState(StateInput in, int version) {}

        @Override
        public String describeState() {
            return "idle";
        }
    }
}
