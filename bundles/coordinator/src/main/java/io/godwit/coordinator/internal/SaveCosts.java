package io.godwit.coordinator.internal;

import io.godwit.api.device.VmDevice;
import io.godwit.api.vm.Vm;
import io.godwit.wire.StateEncoder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What saving the VM's state costs a stop-and-copy, measured, for the fixed part of the downtime
 * estimate. It replaced a charge of 1 ms per vCPU and per device, under which an idle 64-vCPU guest
 * never fit an 80 ms limit, while a save takes microseconds ({@code benchmarks/run devices}).
 * <ul>
 *   <li>vCPUs are saved while the guest runs ({@link Vm#timeVcpuStateSaves}), each wrapped in its
 *       STATE section as stop-and-copy will, counted in CPU time; the migration measures that at
 *       setup and again every second, so a state that grows (a console) is followed.</li>
 *   <li>A device can be saved only with the VM stopped, so each device type costs what its last save
 *       in a stop-and-copy on this host took; a type not saved here yet costs one vCPU save.</li>
 * </ul>
 *
 * <p>One per coordinator; thread safe.
 */
final class SaveCosts {

    private final Map<String, Long> deviceNanos = new ConcurrentHashMap<>();

    /** Records a device's save in a stop-and-copy, with its STATE section. */
    void deviceSaved(VmDevice device, long nanos) {
        deviceNanos.put(device.type(), nanos);
    }

    /** What saving {@code vm}'s devices will take, in ns, given what one vCPU save takes. */
    long devicesNanos(Vm vm, long oneVcpuNanos) {
        long n = 0;
        for (VmDevice d : vm.devices()) {
            n += deviceNanos.getOrDefault(d.type(), oneVcpuNanos);
        }
        return n;
    }

    /**
     * Saves every vCPU's state while the guest runs and builds its STATE section, as stop-and-copy
     * will one after the other; the ns that took, summed. Blocks for about one quantum.
     */
    static long vcpusNanos(Vm vm) throws InterruptedException {
        StateEncoder[] out = new StateEncoder[vm.spec().vcpus()];
        long saves = vm.timeVcpuStateSaves(i -> out[i] = new StateEncoder());
        long t0 = cpuNanos();
        for (int i = 0; i < out.length; i++) {
            Switchover.cpuSection(vm, i, i + 1, out[i].toByteArray()).toByteArray();
        }
        return saves + cpuNanos() - t0;
    }

    /** CPU time, as the kernel measures the saves: the running guest's vCPUs compete for the CPUs now. */
    private static long cpuNanos() {
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : System.nanoTime();
    }
}
