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
    private final FrameReader reader;
    private final RamLoader ram;
    private final Vm vm;
    private final boolean[] cpuLoaded;
    private final boolean[] deviceLoaded;
    private boolean ramOpen;
    private boolean ramDone;
    private boolean switchedOver;

    StreamLoader(IncomingMigration in, FrameReader reader, RamLoader ram) {
        this.in = in;
        this.reader = reader;
        this.ram = ram;
        this.vm = in.vm;
        this.cpuLoaded = new boolean[vm.spec().vcpus()];
        this.deviceLoaded = new boolean[vm.devices().size()];
    }

    Complete load() throws IOException {
        while (true) {
            Frame f = reader.next();
            switch (f.type()) {
                case COMMAND -> command(reader.readMessage(f, Command.parser()));
                case SECTION_START -> sectionStart(reader.readMessage(f, SectionStart.parser()));
                case RAM_PAGES -> {
                    if (!ramOpen) {
                        throw new WireException("RAM pages outside the RAM section");
                    }
                    ram.load(reader, f);
                }
                case SECTION_END -> sectionEnd(reader.readMessage(f, SectionEnd.parser()));
                case STATE -> state(reader.readMessage(f, StateSection.parser()));
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
            case SWITCHOVER_START -> switchedOver = true;
            default -> throw new WireException("unknown command " + c.getKindValue());
        }
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
        if (!switchedOver) {
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
        if (!ramDone) {
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
        if (!c.getRamHash().isEmpty()) {
            byte[] mine = RamHash.of(vm.memory());
            if (!Arrays.equals(mine, c.getRamHash().toByteArray())) {
                throw new MigrationFailure("verify-ram: the destination's RAM differs from the source's");
            }
        }
        return c;
    }

}
