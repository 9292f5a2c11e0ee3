package io.godwit.coordinator.internal;

import io.godwit.api.vm.Vm;
import io.godwit.wire.Frame;
import io.godwit.wire.FrameReader;
import io.godwit.wire.StateDecoder;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.Complete;
import io.godwit.wire.proto.SectionEnd;
import io.godwit.wire.proto.SectionStart;
import io.godwit.wire.proto.StateSection;
import java.io.IOException;
import java.util.Arrays;

/**
 * Reads the stream after the hello, in the order the protocol allows, until COMPLETE: the RAM
 * section's batches, the switchover, every vCPU's state exactly once, and the verify-ram hash.
 * Anything else, or anything out of order, is an error.
 */
final class StreamLoader {

    private final IncomingMigration in;
    private FrameReader reader;
    private final RamLoader ram;
    private final Vm vm;
    private final boolean[] cpuLoaded;
    private final boolean[] deviceLoaded;
    private boolean ramOpen;
    private boolean ramDone;
    private boolean switchedOver;
    /** Postcopy: POSTCOPY_START came (the discard map and states follow), then POSTCOPY_RUN. */
    private io.godwit.api.dirty.DirtyBitmap missing;
    private boolean postcopyRunning;
    /** mapped-ram: the layout that came (the RAM was read from the file), and its bitmaps' CRC32C; null before. */
    private io.godwit.wire.proto.MappedRamLayout mappedLayout;
    private int[] bitmapCrcs;
    /** mapped-ram: the tail's sealed layout came and matched. */
    private boolean mappedSealed;

    StreamLoader(IncomingMigration in, FrameReader reader, RamLoader ram) {
        this.in = in;
        this.reader = reader;
        this.ram = ram;
        this.vm = in.vm;
        this.cpuLoaded = new boolean[vm.spec().vcpus()];
        this.deviceLoaded = new boolean[vm.devices().size()];
    }

    /** Postcopy recovery: the stream goes on over a new channel, from where the loader was. */
    void resumeWith(FrameReader newReader) {
        this.reader = newReader;
    }

    Complete load() throws IOException {
        while (true) {
            Frame f = reader.next();
            switch (f.type()) {
                case COMMAND -> command(reader.readMessage(f, Command.parser()));
                case SECTION_START -> sectionStart(reader.readMessage(f, SectionStart.parser()));
                case RAM_PAGES -> {
                    if (!ramOpen || in.mappedRam()) {
                        throw new WireException(ramOpen ? "a RAM batch in a mapped-ram stream, whose pages are in the file"
                                : "RAM pages outside the RAM section");
                    }
                    ram.load(reader, f);
                }
                case SECTION_END -> sectionEnd(reader.readMessage(f, SectionEnd.parser()));
                case STATE -> state(reader.readMessage(f, StateSection.parser()));
                case MAPPED_RAM -> mappedRam(reader.readMessage(f, io.godwit.wire.proto.MappedRamLayout.parser()));
                case DISCARD -> discard(reader.readMessage(f, io.godwit.wire.proto.PostcopyDiscard.parser()));
                case COMPLETE -> {
                    return complete(reader.readMessage(f, Complete.parser()));
                }
                default -> throw new WireException("unexpected " + f.type() + " frame");
            }
            in.maybeAck(reader, ram);
        }
    }

    private void command(Command c) throws IOException {
        switch (c.getKind()) {
            case PING -> in.pong(c, reader);
            case SWITCHOVER_START -> {
                if (switchedOver) {
                    throw new WireException("a second switchover");
                }
                switchedOver = true;
            }
            case POSTCOPY_START -> postcopyStart();
            case POSTCOPY_RUN -> postcopyRun(c);
            case MULTIFD_FLUSH -> in.multifdFlush(c.getValue());
            default -> throw new WireException("unknown command " + c.getKindValue());
        }
    }

    /**
     * mapped-ram: the RAM comes from its fixed offsets in the file ({@link MappedRamLoader}), then the
     * stream goes on after the page regions.
     */
    private void mappedRam(io.godwit.wire.proto.MappedRamLayout layout) throws IOException {
        if (!in.mappedRam()) {
            throw new WireException("a mapped-ram layout in a stream whose hello has no capability mapped-ram");
        }
        if (layout.getSealed()) {
            if (mappedLayout == null || !switchedOver || mappedSealed || !ramOpen) {
                throw new WireException("a sealed mapped-ram layout out of place");
            }
            MappedRamLoader.checkSealed(mappedLayout, layout, bitmapCrcs, vm.memory().blocks());
            mappedSealed = true;
            return;
        }
        if (!ramOpen || switchedOver || mappedLayout != null) {
            throw new WireException("a mapped-ram layout " + (mappedLayout != null ? "twice" : "outside the RAM section's start"));
        }
        io.godwit.api.transport.SeekableChannel file = in.seekable();
        bitmapCrcs = MappedRamLoader.load(file, layout, vm.memory(), in.fresh(), ram);
        file.position(layout.getStreamOffset());
        reader = new FrameReader(file, 64 << 10);
        mappedLayout = layout;
    }

    private void postcopyStart() throws WireException {
        if (!in.postcopyAllowed()) {
            throw new WireException("the source started postcopy, but capability postcopy-ram is off here");
        }
        if (in.mappedRam()) {
            throw new WireException("POSTCOPY_START in a mapped-ram stream");
        }
        if (switchedOver || !ramOpen) {
            throw new WireException("POSTCOPY_START " + (switchedOver ? "after the switchover" : "outside the RAM section"));
        }
        switchedOver = true;
        missing = new io.godwit.api.dirty.DirtyBitmap(vm.memory().pages());
    }

    /** One run of the discard map: pages of one block the guest must fault on. Checked against the block. */
    private void discard(io.godwit.wire.proto.PostcopyDiscard d) throws WireException {
        if (missing == null || postcopyRunning) {
            throw new WireException("a postcopy discard map outside postcopy's start");
        }
        var blocks = vm.memory().blocks();
        if (d.getBlock() >= blocks.size()) {
            throw new WireException("a discard map for block " + d.getBlock() + " of " + blocks.size());
        }
        var block = blocks.get(d.getBlock());
        long words = (block.pages() + 63) >>> 6;
        if (d.getFirstWord() < 0 || d.getFirstWord() >= words || d.getWordsCount() > words - d.getFirstWord()) {
            throw new WireException("a discard map of " + d.getWordsCount() + " words from word "
                    + d.getFirstWord() + " does not fit RAM block '" + block.name() + "' (" + words + " words)");
        }
        long base = block.firstPage() + d.getFirstWord() * 64;
        for (int i = 0; i < d.getWordsCount(); i++) {
            long bits = d.getWords(i);
            long first = base + i * 64L;
            long inBlock = block.firstPage() + block.pages() - first; // pages of this word inside the block
            if (inBlock < 64) {
                bits &= (1L << inBlock) - 1;
            }
            for (; bits != 0; bits &= bits - 1) {
                missing.set(first + Long.numberOfTrailingZeros(bits));
            }
        }
    }

    private void postcopyRun(Command c) throws IOException {
        if (missing == null || postcopyRunning) {
            throw new WireException("POSTCOPY_RUN without POSTCOPY_START");
        }
        requireAllStates();
        postcopyRunning = true;
        in.startPostcopy(missing, c.getValue() == 1, c.getTimeMicros());
    }

    private void sectionStart(SectionStart s) throws WireException {
        if (s.getSectionId() != OutgoingMigration.RAM_SECTION || !s.getName().equals("ram") || s.getVersion() != 1) {
            throw new WireException("unknown section '" + Printable.quote(s.getName()) + "' id " + Integer.toUnsignedString(s.getSectionId())
                    + " version " + Integer.toUnsignedString(s.getVersion()));
        }
        if (ramOpen || ramDone) {
            throw new WireException("the RAM section was opened twice");
        }
        ramOpen = true;
    }

    private void sectionEnd(SectionEnd e) throws WireException {
        if (!ramOpen || e.getSectionId() != OutgoingMigration.RAM_SECTION) {
            throw new WireException("section footer for section " + Integer.toUnsignedString(e.getSectionId())
                    + " does not match");
        }
        if (!switchedOver || missing != null && !postcopyRunning) {
            throw new WireException("the RAM section ended before the switchover");
        }
        ramOpen = false;
        ramDone = true;
    }

    private void state(StateSection s) throws WireException {
        if (s.getName().equals(DeviceIteration.NAME)) {
            DeviceIteration.load(vm, s); // a disk's blocks: any time before COMPLETE
            return;
        }
        if (!ramDone && (missing == null || postcopyRunning)) {
            throw new WireException("state of '" + Printable.quote(s.getName()) + "' before the end of RAM");
        }
        if (s.getName().equals(DeviceSections.NAME)) {
            DeviceSections.load(vm, s, deviceLoaded);
            return;
        }
        if (!s.getName().equals("cpu")) {
            throw new WireException("unknown state section '" + Printable.quote(s.getName()) + "'");
        }
        int i = s.getInstance();
        if (i < 0 || i >= cpuLoaded.length || cpuLoaded[i]) {
            throw new WireException("vCPU state for instance " + Integer.toUnsignedString(i) + " is unexpected");
        }
        StateDecoder decoder = new StateDecoder("vCPU " + i, s.getData().toByteArray());
        vm.loadVcpuState(i, decoder, s.getVersion());
        decoder.finish();
        cpuLoaded[i] = true;
    }

    private Complete complete(Complete c) throws IOException {
        if (!ramDone) {
            throw new WireException("the stream completed before the RAM section ended");
        }
        if (in.mappedRam() && !mappedSealed) {
            throw new WireException("a mapped-ram stream completed without its " + (mappedLayout == null ? "RAM layout"
                    : "sealed layout"));
        }
        if (c.getPostcopy() != postcopyRunning) {
            throw new WireException(postcopyRunning ? "postcopy ended with a precopy completion"
                    : "a postcopy completion without postcopy");
        }
        if (postcopyRunning && !c.getRamHash().isEmpty()) {
            throw new WireException("verify-ram cannot be combined with postcopy");
        }
        requireAllStates();
        if (postcopyRunning && ram.postcopyMissing() > 0) {
            throw new WireException("postcopy completed with " + ram.postcopyMissing() + " pages never sent");
        }
        if (!c.getRamHash().isEmpty() || ram.digests != null) {
            if (ram.digests == null || c.getRamHash().isEmpty()) {
                throw new WireException("verify-ram: the hello and the completion disagree on whether it is on");
            }
            in.stats.verifyNanos = ram.digests.nanos();
            if (!Arrays.equals(ram.digests.value(), c.getRamHash().toByteArray())) {
                throw new MigrationFailure("verify-ram: the destination's RAM differs from the source's");
            }
        }
        return c;
    }

    private void requireAllStates() throws WireException {
        for (int i = 0; i < cpuLoaded.length; i++) {
            if (!cpuLoaded[i]) {
                throw new WireException("the stream completed without the state of vCPU " + i);
            }
        }
        for (int i = 0; i < deviceLoaded.length; i++) {
            if (!deviceLoaded[i]) {
                throw new WireException("the stream completed without the state of "
                        + vm.devices().get(i).label());
            }
        }
    }

}
