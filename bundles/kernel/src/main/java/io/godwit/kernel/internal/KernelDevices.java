package io.godwit.kernel.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.device.VmDevice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The devices of one VM and their lifecycle: realize at creation, pause when the VM stops (vhost
 * stops its worker, as QEMU's vm state change handlers do, before the final dirty sync), resume when
 * it runs, unrealize when it is destroyed. Lifecycle calls are serialized by this object's monitor.
 */
final class KernelDevices {

    private static final Logger LOG = LoggerFactory.getLogger(KernelDevices.class);

    private final List<KernelDevice> devices = new ArrayList<>();
    private boolean running;

    /**
     * Makes, realizes and checks every device of the spec. On failure the devices made so far are
     * unrealized and the error says which device failed.
     */
    synchronized void create(KernelVm vm, List<String> specs, Function<String, DeviceFactory> factories) {
        Map<String, Integer> counters = new HashMap<>();
        Set<String> ids = new HashSet<>();
        try {
            for (String text : specs) {
                DeviceSpec spec = DeviceSpec.parse(text);
                DeviceFactory factory = factories.apply(spec.type());
                Map<String, String> options = new HashMap<>(spec.options());
                String id = options.remove("id");
                if (id == null) {
                    int n = counters.merge(spec.idStem(), 1, Integer::sum) - 1;
                    id = spec.idStem() + n;
                }
                if (!id.matches("[A-Za-z][A-Za-z0-9_.-]{0,31}") || !ids.add(id)) {
                    throw new IllegalArgumentException("bad or duplicate device id '" + id + "'");
                }
                KernelDevice kd = new KernelDevice(vm, id, spec.type(), text.strip());
                Device d;
                try {
                    d = factory.create(kd, Map.copyOf(options));
                    kd.bind(d);
                    devices.add(kd);
                    d.realize();
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(kd.label() + ": " + e.getMessage(), e);
                }
                requireDirtyLog(kd);
            }
        } catch (RuntimeException e) {
            unrealizeAll();
            throw e;
        }
    }

    /**
     * A device that writes guest RAM behind the CPU's back without a dirty log would lose pages in
     * every migration: refuse it (QEMU's "vhost lacks VHOST_F_LOG_ALL" blocker, made a hard error).
     */
    static void requireDirtyLog(VmDevice d) {
        if (d.device().writesGuestMemoryDirectly() && !d.hasDirtyLogSource()) {
            throw new IllegalArgumentException(d.label() + " writes guest RAM directly but registered no dirty log"
                    + " source: its writes would be lost in a migration");
        }
    }

    List<VmDevice> list() {
        synchronized (this) {
            return List.copyOf(devices);
        }
    }

    synchronized void resume() {
        if (running) {
            return;
        }
        running = true;
        for (KernelDevice d : devices) {
            d.device().resume();
        }
    }

    synchronized void pause() {
        if (!running) {
            return;
        }
        running = false;
        for (KernelDevice d : devices) {
            d.device().pause();
        }
    }

    /** Runs every device's oracle; an empty list when no device has one. */
    synchronized List<OracleVerdict> check() {
        List<OracleVerdict> out = new ArrayList<>();
        for (KernelDevice d : devices) {
            Optional<OracleVerdict> v = d.device().check();
            v.ifPresent(verdict -> out.add(new OracleVerdict(verdict.pagesChecked(), verdict.badPages(),
                    verdict.examples().stream().map(x -> d.id() + ": " + x).toList(),
                    d.id() + ": " + verdict.summary())));
        }
        return out;
    }

    synchronized void unrealizeAll() {
        pause();
        for (KernelDevice d : devices.reversed()) {
            try {
                if (d.device() != null) {
                    d.device().unrealize();
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: unrealize failed: {}", d.label(), e.toString());
            }
            d.release();
        }
        devices.clear();
    }
}
