package io.godwit.coordinator.internal;

import com.google.protobuf.ByteString;
import io.godwit.api.device.VmDevice;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.vm.Vm;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.StateDecoder;
import io.godwit.wire.StateEncoder;
import io.godwit.wire.WireException;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.DeviceInfo;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.StateSection;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Device state in the stream, as QEMU's vmstate sections: the hello lists every device (id, type,
 * version); stop-and-copy sends one {@code dev} section per device after the vCPUs; the destination
 * loads each exactly once and only at a version it supports. Every error names the device.
 */
final class DeviceSections {

    /** The section name of device state; the instance is the device's index in the VM. */
    static final String NAME = "dev";

    private static final Logger LOG = LoggerFactory.getLogger(DeviceSections.class);

    private DeviceSections() {}

    static void describe(Vm vm, Hello.Builder hello) {
        for (VmDevice d : vm.devices()) {
            hello.addDevices(DeviceInfo.newBuilder().setId(d.id()).setType(d.type())
                    .setVersion(d.device().stateVersion()).setOptions(d.options()));
        }
    }

    /** The destination's check of the source's device list: same devices, loadable versions. */
    static void check(Hello hello, Vm vm) {
        List<VmDevice> mine = vm.devices();
        if (hello.getDevicesCount() != mine.size()) {
            throw new MigrationFailure("the source has " + hello.getDevicesCount() + " devices, this VM "
                    + mine.size());
        }
        for (int i = 0; i < mine.size(); i++) {
            DeviceInfo theirs = hello.getDevices(i);
            VmDevice d = mine.get(i);
            if (!theirs.getId().equals(d.id()) || !theirs.getType().equals(d.type())) {
                throw new MigrationFailure("the source's device " + i + " is " + Printable.quote(theirs.getId()) + " ("
                        + Printable.quote(theirs.getType()) + "), this VM's is " + d.id() + " (" + d.type() + ")");
            }
            checkVersion(d, theirs.getVersion());
        }
    }

    static void checkVersion(VmDevice d, int version) {
        int max = d.device().stateVersion();
        int min = d.device().minimumStateVersion();
        if (version < min || version > max) {
            throw new MigrationFailure(d.label() + ": state version " + Integer.toUnsignedString(version)
                    + " is not supported (this host"
                    + " loads " + min + " to " + max + ")");
        }
    }

    /**
     * A device's load that failed, as one line naming the device. A refusal (StateFormatException, as
     * the device contract asks) says what was wrong with the state; anything else is the device's own
     * bug, whatever the stream held: its class is named and its stack trace logged, so that it is
     * seen and fixed rather than passing for a refusal.
     */
    static MigrationFailure loadFailed(VmDevice d, RuntimeException e) {
        if (e instanceof StateFormatException || e instanceof MigrationFailure) {
            String why = String.valueOf(e.getMessage());
            return new MigrationFailure(why.startsWith(d.label()) ? why : d.label() + ": " + why, e);
        }
        LOG.error("{}: loading its state threw {}", d.label(), e.getClass().getName(), e);
        return new MigrationFailure(d.label() + ": loading its state failed: " + e, e);
    }

    /**
     * Refuses at migrate start a device that writes guest RAM behind the CPU's back without a dirty log
     * source: its pages would reach the destination stale.
     */
    static void requireDirtyLogs(Vm vm) {
        for (VmDevice d : vm.devices()) {
            if (d.device().writesGuestMemoryDirectly() && !d.hasDirtyLogSource()) {
                throw new MigrationFailure(d.label() + " writes guest RAM directly but has no dirty log source:"
                        + " migration refused");
            }
        }
    }

    /**
     * Saves and sends every device's state (the VM is stopped, its devices paused).
     *
     * @return the last section id used
     */
    static int send(Vm vm, FrameWriter writer, int lastSection, MigrationStats stats, SaveCosts costs)
            throws IOException {
        int section = lastSection;
        List<VmDevice> devices = vm.devices();
        long t0 = System.nanoTime();
        for (int i = 0; i < devices.size(); i++) {
            VmDevice d = devices.get(i);
            long started = System.nanoTime();
            StateEncoder out = new StateEncoder();
            try {
                d.device().saveState(out);
            } catch (RuntimeException e) {
                throw new MigrationFailure(d.label() + ": saving its state failed: " + e.getMessage(), e);
            }
            byte[] data = out.toByteArray();
            if (data.length > WireLimits.MAX_STATE_BYTES) {
                throw new MigrationFailure(d.label() + ": state of " + data.length + " bytes is too large");
            }
            StateSection s = StateSection.newBuilder().setSectionId(++section).setName(NAME).setInstance(i)
                    .setVersion(d.device().stateVersion()).setData(ByteString.copyFrom(data)).build();
            costs.deviceSaved(d, System.nanoTime() - started); // the next estimates' (not the socket's time)
            writer.writeMessage(FrameType.STATE, s);
        }
        stats.deviceSaveNanos = System.nanoTime() - t0;
        return section;
    }

    /** Loads one device section on the destination; each device exactly once. */
    static void load(Vm vm, StateSection s, boolean[] loaded) throws WireException {
        List<VmDevice> devices = vm.devices();
        int i = s.getInstance();
        if (i < 0 || i >= devices.size() || loaded[i]) {
            throw new WireException("device state for instance " + Integer.toUnsignedString(i) + " is unexpected");
        }
        VmDevice d = devices.get(i);
        checkVersion(d, s.getVersion());
        try {
            StateDecoder decoder = new StateDecoder(d.label(), s.getData().toByteArray());
            d.device().loadState(decoder, s.getVersion());
            decoder.finish();
        } catch (RuntimeException e) {
            throw loadFailed(d, e);
        }
        loaded[i] = true;
    }
}
