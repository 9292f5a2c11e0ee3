package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.cpu.VcpuExit;
import io.godwit.api.memory.CpuMemory;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;

/** One vCPU of the fill workload: whole pages through the CPU path, then halt for good. */
final class FillVcpu implements Vcpu {

    private final VcpuContext context;
    private final CpuMemory memory;
    private final long start;
    private final long end;
    private final FillPattern pattern;
    private long next;
    private volatile long written;

    FillVcpu(VcpuContext context, long start, long end, FillPattern pattern) {
        this.context = context;
        this.pattern = pattern;
        this.memory = context.memory();
        this.start = start;
        this.end = end;
        this.next = start;
    }

    @Override
    public VcpuExit run(long quantumNanos) {
        long deadline = System.nanoTime() + quantumNanos;
        while (next < end) {
            long base = next * Pages.SIZE;
            for (int w = 0; w < Pages.SIZE / 8; w++) {
                memory.store64(base + w * 8L, pattern.word(next, w));
            }
            next++;
            written = next - start;
            if (context.exitRequested() || System.nanoTime() - deadline >= 0) {
                return VcpuExit.QUANTUM;
            }
        }
        return VcpuExit.HALT;
    }

    @Override
    public long progress() {
        return written;
    }

    @Override
    public String progressUnit() {
        return "pages";
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateOutput out) {
        out.writeLong(start);
        out.writeLong(end);
        out.writeLong(next);
    }

    @Override
    public void loadState(StateInput in, int version) {
        if (version != 1) {
            throw new StateFormatException("fill vCPU state version " + version + " is not supported (1)");
        }
        long s = in.readLong();
        long e = in.readLong();
        long n = in.readLong();
        if (s != start || e != end || n < start || n > end) {
            throw new StateFormatException("fill vCPU state does not fit this VM's range");
        }
        next = n;
        written = n - start;
    }

    @Override
    public String describeState() {
        return String.format("range=[0x%x, 0x%x) next=0x%x", start * Pages.SIZE, end * Pages.SIZE, next * Pages.SIZE);
    }
}
