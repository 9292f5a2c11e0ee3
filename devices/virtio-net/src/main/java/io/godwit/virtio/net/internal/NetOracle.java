package io.godwit.virtio.net.internal;

import io.godwit.api.cpu.OracleVerdict;
import java.util.ArrayList;
import java.util.List;

/**
 * What the driver and the device must agree on, read with the VM stopped: the driver saw no bad
 * packet; every packet the tap delivered is either received in order or waits in the used ring with
 * the next sequence numbers, intact; the used index in guest RAM is the device's vring base (rx uses
 * one buffer per packet); the avail index is the one the driver wrote.
 */
final class NetOracle {

    private final RawMemory ram;
    private final Layout layout;
    private final boolean started;
    private final int lastAvail;
    private final long tapNext;
    private final String broken;
    private final List<String> problems = new ArrayList<>();

    NetOracle(RawMemory ram, Layout layout, boolean started, int lastAvail, long tapNext, String broken) {
        this.ram = ram;
        this.layout = layout;
        this.started = started;
        this.lastAvail = lastAvail;
        this.tapNext = tapNext;
        this.broken = broken;
    }

    OracleVerdict verdict() {
        long pages = layout.size() / Layout.PAGE;
        long st = layout.driverState();
        if (!started || ram.load64(st) != NetDriver.MAGIC) {
            return new OracleVerdict(0, 0, List.of(), "driver not started");
        }
        long received = ram.load64(st + NetDriver.NEXT_SEQ);
        long errors = ram.load64(st + NetDriver.ERRORS);
        int lastUsed = ram.load32(st + NetDriver.LAST_USED);
        int availShadow = ram.load32(st + NetDriver.AVAIL_IDX);
        int usedIdx = ram.load16(layout.used() + 2);
        int availIdx = ram.load16(layout.avail() + 2);
        if (broken != null) {
            problems.add("vhost queue broken: " + broken);
        }
        if (ram.load64(st + NetDriver.BROKEN) != 0) {
            problems.add("the driver found the queue broken (more used entries than posted buffers)");
        }
        if (errors != 0) {
            problems.add(String.format("the driver saw %d bad packets; the first: expected seq %d, found %d", errors,
                    ram.load64(st + NetDriver.ERR_EXPECTED), ram.load64(st + NetDriver.ERR_FOUND)));
        }
        if (usedIdx != (lastAvail & 0xffff)) {
            problems.add(String.format("used->idx %d in guest RAM is not the device's vring base %d", usedIdx, lastAvail));
        }
        if (availIdx != (availShadow & 0xffff)) {
            problems.add(String.format("avail->idx %d is not the %d the driver wrote", availIdx, availShadow));
        }
        int pending = (usedIdx - lastUsed) & 0xffff;
        if (pending > layout.queueSize()) {
            problems.add("the used ring is " + pending + " entries ahead of the driver");
        } else {
            checkPending(lastUsed, pending, received);
        }
        if (problems.isEmpty() && received + pending != tapNext) {
            problems.add(String.format("the tap delivered %d packets, the guest has %d received + %d pending",
                    tapNext, received, pending));
        }
        String summary = errors == 0
                ? String.format("%d packets received in order, %d pending, 0 errors, used idx %d, vring base %d",
                        received, pending, usedIdx, lastAvail)
                : String.format("%d errors, next expected packet %d, %d pending, used idx %d, vring base %d",
                        errors, received, pending, usedIdx, lastAvail);
        return new OracleVerdict(pages, problems.size(), problems.stream().limit(5).toList(), summary);
    }

    /** The entries the driver has not consumed yet must carry the next sequence numbers, intact. */
    private void checkPending(int lastUsed, int pending, long received) {
        byte[] buf = new byte[Layout.BUFFER_SIZE];
        for (int k = 0; k < pending; k++) {
            long elem = layout.used() + 4 + 8L * ((lastUsed + k) % layout.queueSize());
            int id = ram.load32(elem);
            int len = ram.load32(elem + 4);
            if (id < 0 || id >= layout.queueSize() || len < 0 || len > Layout.BUFFER_SIZE) {
                problems.add("pending used entry " + k + " is garbage (id " + id + ", len " + len + ")");
                return;
            }
            ram.copyOut(layout.buffer(id), buf, Layout.BUFFER_SIZE);
            byte[] want = new byte[Layout.BUFFER_SIZE];
            int size = Packets.build(received + k, want);
            if (len != size || !java.util.Arrays.equals(buf, 0, size, want, 0, size)) {
                problems.add("pending packet " + (received + k) + " in buffer " + id + " is not intact");
                return;
            }
        }
    }
}
