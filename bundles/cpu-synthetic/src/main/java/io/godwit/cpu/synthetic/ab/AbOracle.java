package io.godwit.cpu.synthetic.ab;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.memory.MemoryReservation;
import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The a-b oracle, shared by every backend that runs QEMU's a-b guest (the synthetic {@code sweep}, the
 * RISC-V {@code ab} program). The range starts at page {@code firstPage}; pages below it hold the
 * guest's own code and data and are not checked. Within each vCPU's range the first bytes read H for pages before the vCPU's position
 * and H-1 (mod 256) from there on: equal except for at most one step down by one. Every page that does
 * not fit the best such split is bad (a lost or stale page). The rest of every page, and every page
 * outside the ranges, must be zero, except device memory ({@link MemoryReservation}s), which the
 * devices' own oracles check.
 */
public final class AbOracle {

    private static final int MAX_EXAMPLES = 5;

    private static final int PAGE = RamBlock.PAGE_SIZE;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[PAGE]);

    private final MemorySegment ram;
    private final long firstPage;
    private final long pages;
    private final int vcpus;
    private final List<MemoryReservation> reserved;
    private final List<String> examples = new ArrayList<>();
    private long bad;

    private AbOracle(MemorySegment ram, long firstPage, long pages, int vcpus, List<MemoryReservation> reserved) {
        this.ram = ram;
        this.firstPage = firstPage;
        this.pages = pages;
        this.vcpus = vcpus;
        this.reserved = reserved;
    }

    /**
     * Checks RAM: pages {@code [firstPage, firstPage + pages)} split into one contiguous range per vCPU
     * ({@code pages * v / vcpus} onwards), every page above them zero.
     */
    public static OracleVerdict check(MemorySegment ram, long firstPage, long pages, int vcpus) {
        return check(ram, firstPage, pages, vcpus, List.of());
    }

    /** As {@link #check(MemorySegment, long, long, int)}, not looking at the {@code reserved} pages above the ranges. */
    public static OracleVerdict check(
            MemorySegment ram, long firstPage, long pages, int vcpus, List<MemoryReservation> reserved) {
        return new AbOracle(ram, firstPage, pages, vcpus, reserved).check();
    }

    private boolean isReserved(long page) {
        for (MemoryReservation r : reserved) {
            if (r.containsPage(page)) {
                return true;
            }
        }
        return false;
    }

    private OracleVerdict check() {
        for (int v = 0; v < vcpus; v++) {
            checkRange(firstPage + pages * v / vcpus, firstPage + pages * (v + 1) / vcpus);
        }
        long total = ram.byteSize() / PAGE;
        for (long p = firstPage + pages; p < total; p++) {
            if (!isReserved(p) && !zeroFrom(ram, p, 0)) {
                flag(p, "outside the sweep ranges but not zero");
            }
        }
        total -= firstPage;
        String summary = total + " pages, " + vcpus + (vcpus == 1 ? " range" : " ranges")
                + (bad == 0 ? ", each with at most one edge" : "");
        return new OracleVerdict(total, bad, examples, summary);
    }

    private void checkRange(long from, long to) {
        int n = (int) (to - from);
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = Byte.toUnsignedInt(ram.get(ValueLayout.JAVA_BYTE, (from + i) * PAGE));
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
            } else if (!zeroFrom(ram, from + i, 1)) {
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

    private static boolean zeroFrom(MemorySegment ram, long page, int from) {
        long off = page * PAGE;
        return MemorySegment.mismatch(ram, off + from, off + PAGE, ZERO, from, PAGE) == -1;
    }

    private void flag(long page, String what) {
        bad++;
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(String.format("page 0x%x: %s", page * PAGE, what));
        }
    }
}
