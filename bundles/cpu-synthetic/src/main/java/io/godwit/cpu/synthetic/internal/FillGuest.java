package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.vm.ByteSize;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code fill}: each vCPU writes every page of its range once with {@link FillPattern}, in order, then
 * idles. Oracle: in each range the pages are a filled prefix (exact pattern) and then zero pages.
 */
final class FillGuest implements Guest {

    private static final ValueLayout.OfLong LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final WorkloadRange range;
    private final FillPattern pattern;

    FillGuest(WorkloadRange range, FillPattern pattern) {
        this.range = range;
        this.pattern = pattern;
    }

    @Override
    public Vcpu createVcpu(VcpuContext context) {
        Ranges ranges = range.forVcpus(); // the devices reserved their memory by now
        int i = context.index();
        return new FillVcpu(context, ranges.start(i), ranges.end(i), pattern);
    }

    @Override
    public OracleVerdict check(GuestMemory memory) {
        MemorySegment ram = memory.blocks().get(0).raw();
        Ranges ranges = range.current();
        long bad = 0;
        List<String> examples = new ArrayList<>();
        for (int v = 0; v < ranges.vcpus(); v++) {
            // The filled prefix ends at the last page that holds the pattern; the vCPU fills in order.
            long end = ranges.end(v);
            while (end > ranges.start(v) && !filled(ram, end - 1)) {
                end--;
            }
            for (long p = ranges.start(v); p < ranges.end(v); p++) {
                String problem = null;
                if (p < end && !filled(ram, p)) {
                    problem = "not the fill pattern, inside the filled prefix";
                } else if (p >= end && !Pages.zeroFrom(ram, p, 0)) {
                    problem = "neither the pattern nor zero";
                }
                if (problem != null) {
                    bad++;
                    if (examples.size() < 5) {
                        examples.add(String.format("page 0x%x: %s", p * Pages.SIZE, problem));
                    }
                }
            }
        }
        long total = ranges.pages();
        return new OracleVerdict(total, bad, examples, total + " pages in " + ranges.vcpus()
                + (ranges.vcpus() == 1 ? " range" : " ranges") + ", a filled prefix then zero pages");
    }

    private boolean filled(MemorySegment ram, long page) {
        long off = page * Pages.SIZE;
        for (int w = 0; w < Pages.SIZE / 8; w++) {
            if (ram.get(LONG, off + w * 8L) != pattern.word(page, w)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String describe() {
        Ranges ranges = range.current();
        return "fill of " + ByteSize.format(ranges.pages() * Pages.SIZE) + " in " + ranges.vcpus()
                + (ranges.vcpus() == 1 ? " range" : " ranges")
                + (pattern.randomWords() < FillPattern.WORDS ? ", " + pattern.randomWords() + " random words a page" : "");
    }
}
