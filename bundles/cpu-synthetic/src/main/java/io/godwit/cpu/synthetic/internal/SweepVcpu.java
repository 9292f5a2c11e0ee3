package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.cpu.VcpuExit;
import io.godwit.api.memory.CpuMemory;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;

/**
 * One vCPU of the sweep workload. Its position in the range is its architectural state: it migrates,
 * so the destination goes on exactly where the source stopped, and the oracle's single edge holds.
 */
final class SweepVcpu implements Vcpu {

    /** Pages written between two looks at the clock and the exit request. */
    private static final int CHUNK = 64;

    private final VcpuContext context;
    private final CpuMemory memory;
    private final long start;
    private final long pages;
    private final long rate;

    private long position;
    private long passes;
    private volatile long written;
    private long rateEpochNanos;
    private long rateEpochWritten;

    SweepVcpu(VcpuContext context, long start, long end, long ratePerSecond) {
        this.context = context;
        this.memory = context.memory();
        this.start = start;
        this.pages = end - start;
        this.rate = ratePerSecond;
    }

    @Override
    public VcpuExit run(long quantumNanos) {
        long deadline = System.nanoTime() + quantumNanos;
        long pos = position;
        long done = written;
        while (true) {
            if (rate > 0 && aheadOfRate(done)) {
                written = done;
                position = pos;
                return VcpuExit.WAIT; // like a guest that waits for its next timer tick: busy, not idle
            }
            for (int k = 0; k < CHUNK; k++) {
                long gpa = (start + pos) * Pages.SIZE;
                memory.store8(gpa, (byte) (memory.load8(gpa) + 1));
                if (++pos == pages) {
                    pos = 0;
                    passes++;
                }
            }
            done += CHUNK;
            if (context.exitRequested() || System.nanoTime() - deadline >= 0) {
                written = done;
                position = pos;
                return VcpuExit.QUANTUM;
            }
        }
    }

    private boolean aheadOfRate(long done) {
        long now = System.nanoTime();
        if (rateEpochNanos == 0 || now - rateEpochNanos > 1_000_000_000L) {
            rateEpochNanos = now; // re-anchor each second so a long pause is not made up in a burst
            rateEpochWritten = done;
        }
        return (done - rateEpochWritten) * 1_000_000_000L > rate * (now - rateEpochNanos);
    }

    @Override
    public long progress() {
        return written;
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
    public void saveState(StateOutput out) {
        out.writeLong(start);
        out.writeLong(pages);
        out.writeLong(position);
        out.writeLong(passes);
        out.writeLong(written);
    }

    @Override
    public void loadState(StateInput in, int version) {
        if (version != 1) {
            throw new StateFormatException("sweep vCPU state version " + version + " is not supported (1)");
        }
        long s = in.readLong();
        long n = in.readLong();
        if (s != start || n != pages) {
            throw new StateFormatException("sweep vCPU range differs: source [" + s + ", +" + n
                    + "), destination [" + start + ", +" + pages + ")");
        }
        long pos = in.readLong();
        if (pos < 0 || pos >= pages) {
            throw new StateFormatException("sweep vCPU position out of range: " + pos);
        }
        position = pos;
        passes = in.readLong();
        written = in.readLong();
    }

    @Override
    public String describeState() {
        return String.format("range=[0x%x, +%d pages) position=%d passes=%d writes=%d",
                start * Pages.SIZE, pages, position, passes, written);
    }
}
