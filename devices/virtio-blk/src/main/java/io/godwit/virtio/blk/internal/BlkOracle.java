package io.godwit.virtio.blk.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.memory.GuestMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * With the VM stopped and the queue drained: the driver saw no bad read and no completion of a
 * request it had not issued; every block of the image holds exactly what the guest last wrote to it
 * (or the write it still has in flight); the used index is the device's vring base.
 */
final class BlkOracle {

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GuestMemory mem;
    private final BlkLayout l;
    private final FileChannel image;
    private final boolean started;
    private final int lastAvail;
    private final String broken;
    private final List<String> problems = new ArrayList<>();
    private final MemorySegment page = Arena.ofAuto().allocate(BlkLayout.PAGE);

    BlkOracle(GuestMemory mem, BlkLayout layout, FileChannel image, boolean started, int lastAvail, String broken) {
        this.mem = mem;
        this.l = layout;
        this.image = image;
        this.started = started;
        this.lastAvail = lastAvail;
        this.broken = broken;
    }

    private long load64(long gpa) {
        mem.dmaRead(gpa, page.asSlice(0, 8));
        return page.get(LONG, 0);
    }

    OracleVerdict verdict() {
        long st = l.driverState();
        if (!started || load64(st) != BlkDriver.MAGIC) {
            return new OracleVerdict(0, 0, List.of(), "driver not started");
        }
        long errors = load64(st + BlkDriver.ERRORS);
        if (broken != null) {
            problems.add("queue broken: " + broken);
        }
        if (load64(st + BlkDriver.BROKEN) != 0) {
            problems.add("the driver found the queue broken (more completions than requests)");
        }
        if (errors != 0) {
            problems.add(String.format("the driver saw %d bad completions; the first: block %d, found %d", errors,
                    load64(st + BlkDriver.ERR_BLOCK), load64(st + BlkDriver.ERR_FOUND)));
        }
        int usedIdx = (int) (load64(l.used()) >>> 16) & 0xffff;
        if (usedIdx != lastAvail) {
            problems.add("used->idx " + usedIdx + " is not the vring base " + lastAvail + " after the drain");
        }
        long bad = checkImage();
        String summary = String.format("%d requests completed (%d reads verified, %d writes), %d errors, image of %d"
                        + " blocks %s", load64(st + BlkDriver.DONE), load64(st + BlkDriver.READS),
                load64(st + BlkDriver.WRITES), errors, l.blocks(), bad == 0 ? "as the guest wrote it" : "WRONG");
        return new OracleVerdict(l.size() / BlkLayout.PAGE + l.blocks(), problems.size() + bad,
                problems.stream().limit(5).toList(), summary);
    }

    /** Every block holds its committed generation, or the one still in flight. */
    private long checkImage() {
        ByteBuffer buf = ByteBuffer.allocate(BlkLayout.BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        long bad = 0;
        for (long b = 0; b < l.blocks(); b++) {
            mem.dmaRead(l.gen(b), page.asSlice(0, 8));
            int committed = page.get(INT, 0);
            int inFlight = page.get(INT, 4);
            buf.clear();
            try {
                image.read(buf, b * BlkLayout.BLOCK);
            } catch (IOException e) {
                problems.add("cannot read the image: " + e.getMessage());
                return 1;
            }
            if (!matches(buf, b, committed) && (inFlight == 0 || !matches(buf, b, inFlight))) {
                bad++;
                if (problems.size() < 5) {
                    problems.add(String.format("block %d holds generation %d, the guest wrote %d", b, buf.getLong(8),
                            committed));
                }
            }
        }
        return bad;
    }

    private static boolean matches(ByteBuffer buf, long block, int gen) {
        for (int i = 0; i < BlkLayout.BLOCK / 8; i++) {
            if (buf.getLong(8 * i) != BlockPattern.word(block, gen, i)) {
                return false;
            }
        }
        return true;
    }
}
