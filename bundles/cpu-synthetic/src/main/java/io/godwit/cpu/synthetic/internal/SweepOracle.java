package io.godwit.cpu.synthetic.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.memory.MemoryReservation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The a-b oracle. Within each vCPU's range the first bytes read H for pages before the vCPU's position
 * and H-1 (mod 256) from there on: equal except for at most one step down by one. Every page that does
 * not fit the best such split is bad (a lost or stale page). The rest of every page, and every page
 * outside the ranges, must be zero.
 */
final class SweepOracle {

    private static final int MAX_EXAMPLES = 5;

    private final MemorySegment ram;
    private final Ranges ranges;
    private final List<String> examples = new ArrayList<>();
    private long bad;

    private final List<MemoryReservation> reserved;

    SweepOracle(MemorySegment ram, Ranges ranges) {
        this(ram, ranges, List.of());
    }

    /** {@code reserved}: device memory outside the ranges, checked by the devices' oracles instead. */
    SweepOracle(MemorySegment ram, Ranges ranges, List<MemoryReservation> reserved) {
        this.ram = ram;
        this.ranges = ranges;
        this.reserved = reserved;
    }

    private boolean isReserved(long page) {
        for (MemoryReservation r : reserved) {
            if (r.containsPage(page)) {
                return true;
            }
        }
        return false;
    }

    OracleVerdict check() {
        for (int v = 0; v < ranges.vcpus(); v++) {
            checkRange(ranges.start(v), ranges.end(v));
        }
        long total = ram.byteSize() / Pages.SIZE;
        for (long p = ranges.pages(); p < total; p++) {
            if (!isReserved(p) && !Pages.zeroFrom(ram, p, 0)) {
                flag(p, "outside the sweep ranges but not zero");
            }
        }
        String summary = total + " pages, " + ranges.vcpus() + (ranges.vcpus() == 1 ? " range" : " ranges")
                + (bad == 0 ? ", each with at most one edge" : "");
        return new OracleVerdict(total, bad, examples, summary);
    }

    private void checkRange(long from, long to) {
        int n = (int) (to - from);
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = Byte.toUnsignedInt(ram.get(ValueLayout.JAVA_BYTE, (from + i) * Pages.SIZE));
        }
        // Candidate H values: the first page's value, one above the last page's, the most common one.
        int best = Integer.MAX_VALUE;
        int bestH = 0;
        int bestK = 0;
        for (int h : new int[] {b[0], (b[n - 1] + 1) & 0xff, mostCommon(b)}) {
            int[] split = bestSplit(b, h);
            if (split[1] < best) {
                best = split[1];
                bestH = h;
                bestK = split[0];
            }
        }
        for (int i = 0; i < n; i++) {
            int expected = i < bestK ? bestH : (bestH - 1) & 0xff;
            if (b[i] != expected) {
                flag(from + i, String.format("first byte %d, expected %d (edge at page %d)", b[i], expected, from + bestK));
            } else if (!Pages.zeroFrom(ram, from + i, 1)) {
                flag(from + i, "bytes after the first are not zero");
            }
        }
    }

    /** For H, the edge position k minimising mismatches of {H before k, H-1 from k}: {k, mismatches}. */
    private static int[] bestSplit(int[] b, int h) {
        int lo = (h - 1) & 0xff;
        int mismatches = 0; // k = 0: every page expected lo
        for (int x : b) {
            if (x != lo) {
                mismatches++;
            }
        }
        int best = mismatches;
        int bestK = 0;
        for (int k = 1; k <= b.length; k++) {
            int x = b[k - 1]; // page k-1 moves from the "lo" side to the "h" side
            mismatches += (x != h ? 1 : 0) - (x != lo ? 1 : 0);
            if (mismatches < best) {
                best = mismatches;
                bestK = k;
            }
        }
        return new int[] {bestK, best};
    }

    private static int mostCommon(int[] b) {
        int[] counts = new int[256];
        int best = 0;
        for (int x : b) {
            if (++counts[x] > counts[best]) {
                best = x;
            }
        }
        return best;
    }

    private void flag(long page, String what) {
        bad++;
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(String.format("page 0x%x: %s", page * Pages.SIZE, what));
        }
    }
}
