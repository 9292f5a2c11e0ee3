package io.godwit.cpu.riscv.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

/** The oracles of {@code hash} and {@code mixed}: their memory against {@link Reference}. */
final class Oracles {

    private static final ValueLayout.OfLong LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Oracles() {}

    static long word(GuestMemory memory, long gpa) {
        return memory.blocks().get(0).raw().get(LONG, gpa);
    }

    /** {@code idle}: every page from {@link RiscvBackend#BUF} up is still zero. */
    static OracleVerdict zeroFromBuf(GuestMemory memory) {
        MemorySegment ram = memory.blocks().get(0).raw();
        MemorySegment zero = MemorySegment.ofArray(new byte[RamBlock.PAGE_SIZE]);
        long bad = 0;
        List<String> examples = new ArrayList<>();
        long first = RiscvBackend.BUF >>> RamBlock.PAGE_SHIFT;
        long pages = ram.byteSize() >>> RamBlock.PAGE_SHIFT;
        for (long p = first; p < pages; p++) {
            long off = p << RamBlock.PAGE_SHIFT;
            if (MemorySegment.mismatch(ram, off, off + RamBlock.PAGE_SIZE, zero, 0, RamBlock.PAGE_SIZE) != -1) {
                bad++;
                if (examples.size() < 5) {
                    examples.add(String.format("page 0x%x: not zero", off));
                }
            }
        }
        return new OracleVerdict(pages - first, bad, examples, (pages - first) + " pages above the program, all zero");
    }

    /** The oracle of one {@code hash} guest: the reference result is computed at the first check that needs it, once. */
    static Function<GuestMemory, OracleVerdict> hashOracle(long result, int words, long steps) {
        long[] memo = new long[1];
        boolean[] known = new boolean[1];
        LongSupplier expected = () -> {
            synchronized (memo) {
                if (!known[0]) {
                    memo[0] = Reference.hash(words, steps);
                    known[0] = true;
                }
                return memo[0];
            }
        };
        return m -> hash(m, result, expected);
    }

    /** {@code hash}: once DONE is set, RESULT holds the reference hash. Before that there is nothing to check. */
    static OracleVerdict hash(GuestMemory memory, long result, LongSupplier reference) {
        if (word(memory, result + 8) != 1) {
            return new OracleVerdict(0, 0, List.of(), "hash has not finished: nothing to check yet");
        }
        long expected = reference.getAsLong();
        long found = word(memory, result);
        if (found == expected) {
            return new OracleVerdict(1, 0, List.of(), String.format("hash finished with the reference result %016x",
                    expected));
        }
        return new OracleVerdict(1, 1, List.of(String.format("result at 0x%x: %016x, expected %016x", result, found,
                expected)), "hash finished with a wrong result");
    }

    /**
     * {@code mixed}: replays the counter's k iterations in Java and compares the buffer word by word.
     * The store of iteration k may already be in memory (it precedes the counter's store), so that
     * one word may also hold its next value. Once DONE is set, RESULT must be the buffer's checksum.
     */
    static Function<GuestMemory, OracleVerdict> mixedOracle(long buf, int words, long ctr, long result, long iters) {
        MixedReplay replay = new MixedReplay(words);
        return m -> {
            synchronized (replay) {
                return mixed(m, buf, words, ctr, result, iters, replay);
            }
        };
    }

    /**
     * One guest's replay of {@code mixed}, kept between checks: a later check replays only the
     * iterations since the last one (the counter only grows while the guest runs); a smaller counter
     * (a VM loaded again) starts over. The caller holds its lock.
     */
    static final class MixedReplay {
        private final int words;
        private Reference.Mixed ref;
        /** Iterations replayed in all, for the tests. */
        long replayed;

        MixedReplay(int words) {
            this.words = words;
        }

        Reference.Mixed at(long k) {
            if (ref == null || ref.i > k) {
                ref = new Reference.Mixed(words);
            }
            while (ref.i < k) {
                ref.step();
                replayed++;
            }
            return ref;
        }
    }

    static OracleVerdict mixed(GuestMemory memory, long buf, int words, long ctr, long result, long iters,
            MixedReplay replay) {
        MemorySegment ram = memory.blocks().get(0).raw();
        long k = ram.get(LONG, ctr);
        if (k < 0 || k > iters) {
            return new OracleVerdict(1, 1, List.of(String.format("counter at 0x%x is %d, outside [0, %d]", ctr, k,
                    iters)), "mixed: corrupt counter");
        }
        Reference.Mixed ref = replay.at(k);
        long pending = k < iters ? ref.nextIndex() : -1;
        long pendingValue = k < iters ? ref.nextValue() : 0;
        List<String> examples = new ArrayList<>();
        long badPages = 0;
        long lastBadPage = -1;
        for (int w = 0; w < words; w++) {
            long found = ram.get(LONG, buf + 8L * w);
            boolean ok = found == ref.buf[w] || (w == pending && found == pendingValue);
            if (!ok) {
                long page = (buf + 8L * w) >>> RamBlock.PAGE_SHIFT;
                if (page != lastBadPage) {
                    badPages++;
                    lastBadPage = page;
                    if (examples.size() < 5) {
                        examples.add(String.format("word at 0x%x: %016x, expected %016x after %d iterations",
                                buf + 8L * w, found, ref.buf[w], k));
                    }
                }
            }
        }
        long pages = (8L * words) >>> RamBlock.PAGE_SHIFT;
        boolean done = ram.get(LONG, result + 8) == 1;
        if (done && ram.get(LONG, result) != ref.checksum()) {
            badPages++;
            examples.add(String.format("checksum at 0x%x: %016x, expected %016x", result, ram.get(LONG, result),
                    ref.checksum()));
        }
        return new OracleVerdict(pages, badPages, examples, "mixed after " + k + " of " + iters + " iterations"
                + (done ? ", finished" : "") + (badPages == 0 ? ": the buffer matches the replay" : ""));
    }
}
