package io.godwit.coordinator.internal;

import com.google.protobuf.ByteString;
import io.godwit.api.device.IterativeState;
import io.godwit.api.device.VmDevice;
import io.godwit.api.vm.Vm;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.StateDecoder;
import io.godwit.wire.StateEncoder;
import io.godwit.wire.WireException;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.StateSection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Iterative device state (QEMU's SaveVMHandlers for a disk: save_setup, save_live_iterate,
 * state_pending, save_complete) with {@code copy-storage}: a setup part when the migration starts,
 * parts after each RAM pass while the VM runs, and the rest in stop-and-copy with the devices
 * drained. Each part is one {@code dev-iter} state frame; pending bytes count with RAM in the
 * convergence estimate.
 */
final class DeviceIteration {

    static final String NAME = "dev-iter";
    /** At most this much device data per pass, so RAM passes keep their rhythm. */
    static final long PASS_BUDGET = 8L << 20;

    private record Part(int index, VmDevice device, IterativeState state) {}

    private static final Logger LOG = LoggerFactory.getLogger(DeviceIteration.class);

    private final List<Part> parts = new ArrayList<>();

    /** The VM's iterative devices when copying storage; none otherwise. */
    DeviceIteration(Vm vm, boolean copyStorage) {
        if (!copyStorage) {
            return;
        }
        List<VmDevice> devices = vm.devices();
        for (int i = 0; i < devices.size(); i++) {
            VmDevice d = devices.get(i);
            int index = i;
            d.device().iterativeState().ifPresent(s -> parts.add(new Part(index, d, s)));
        }
    }

    void setup(FrameWriter w) throws IOException {
        for (Part p : parts) {
            send(w, p, save(p, "setup", out -> p.state().saveSetup(out)));
        }
    }

    long pendingBytes() {
        long n = 0;
        for (Part p : parts) {
            n += pending(p);
        }
        return n;
    }

    void iterate(FrameWriter w) throws IOException {
        for (Part p : parts) {
            if (pending(p) > 0) {
                send(w, p, save(p, "a pass", out -> p.state().saveIterate(out, PASS_BUDGET)));
            }
        }
    }

    /** With the VM stopped and the devices drained. */
    void complete(FrameWriter w) throws IOException {
        for (Part p : parts) {
            while (pending(p) > PASS_BUDGET) { // keep each frame under the state size limit
                send(w, p, save(p, "a pass", out -> p.state().saveIterate(out, PASS_BUDGET)));
            }
            send(w, p, save(p, "completion", out -> p.state().saveComplete(out)));
        }
    }

    /** Runs one save call; its failure fails the migration with the device's name, as DeviceSections. */
    private static StateEncoder save(Part p, String stage, Consumer<StateEncoder> call) {
        StateEncoder out = new StateEncoder();
        try {
            call.accept(out);
        } catch (RuntimeException e) {
            throw new MigrationFailure(p.device().label() + ": " + stage + " of its iterative state failed: "
                    + e.getMessage(), e);
        }
        return out;
    }

    private static long pending(Part p) {
        try {
            return p.state().pending();
        } catch (RuntimeException e) {
            throw new MigrationFailure(p.device().label() + ": its pending state failed: " + e.getMessage(), e);
        }
    }

    /** At the migration's end, however it ended: each device drops its change tracking. */
    void cleanup() {
        for (Part p : parts) {
            try {
                p.state().cleanup();
            } catch (RuntimeException e) {
                LOG.warn("{}: cleaning up its iterative state: {}", p.device().label(), e.toString());
            }
        }
    }

    private static void send(FrameWriter w, Part p, StateEncoder out) throws IOException {
        byte[] data = out.toByteArray();
        if (data.length > WireLimits.MAX_STATE_BYTES) {
            throw new MigrationFailure(p.device().label() + ": an iterative part of " + data.length
                    + " bytes is too large");
        }
        w.writeMessage(FrameType.STATE, StateSection.newBuilder().setName(NAME).setInstance(p.index())
                .setVersion(p.device().device().stateVersion()).setData(ByteString.copyFrom(data)).build());
    }

    /** Destination: one part for device {@code s.getInstance()}. */
    static void load(Vm vm, StateSection s) throws WireException {
        List<VmDevice> devices = vm.devices();
        int i = s.getInstance();
        if (i < 0 || i >= devices.size()) {
            throw new WireException("iterative state for device " + Integer.toUnsignedString(i) + " is unexpected");
        }
        VmDevice d = devices.get(i);
        IterativeState state = d.device().iterativeState()
                .orElseThrow(() -> new MigrationFailure(d.label() + " has no iterative state on this host"));
        DeviceSections.checkVersion(d, s.getVersion());
        try {
            StateDecoder in = new StateDecoder(d.label(), s.getData().toByteArray());
            state.load(in);
            in.finish();
        } catch (RuntimeException e) {
            throw DeviceSections.loadFailed(d, e);
        }
    }
}
