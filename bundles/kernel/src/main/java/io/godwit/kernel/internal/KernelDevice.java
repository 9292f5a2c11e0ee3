package io.godwit.kernel.internal;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.GuestDriver;
import io.godwit.api.device.VmDevice;
import io.godwit.api.dirty.DirtyLogSource;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.memory.MemoryReservation;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One device of a VM: what the kernel gives it ({@link DeviceContext}) and what the rest of the host
 * sees of it ({@link VmDevice}). It remembers the dirty log sources and guest drivers the device
 * registered so that they go away with it.
 */
final class KernelDevice implements DeviceContext, VmDevice {

    private final KernelVm vm;
    private final String id;
    private final String type;
    private final String options;
    private final List<AutoCloseable> sourceHandles = new CopyOnWriteArrayList<>();
    private final List<GuestDriver> drivers = new CopyOnWriteArrayList<>();
    private Device device;

    KernelDevice(KernelVm vm, String id, String type, String options) {
        this.vm = vm;
        this.id = id;
        this.type = type;
        this.options = options;
    }

    void bind(Device d) {
        this.device = d;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public String options() {
        return options;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public boolean hasDirtyLogSource() {
        return !sourceHandles.isEmpty();
    }

    @Override
    public String vmName() {
        return vm.name();
    }

    @Override
    public GuestMemory memory() {
        return vm.memory();
    }

    @Override
    public AutoCloseable registerDirtyLogSource(DirtyLogSource source) {
        AutoCloseable inner = vm.dirtyLogging().addSource(source);
        AutoCloseable[] self = new AutoCloseable[1];
        self[0] = () -> {
            if (sourceHandles.remove(self[0])) {
                inner.close();
            }
        };
        sourceHandles.add(self[0]);
        return self[0];
    }

    @Override
    public AutoCloseable attachGuestDriver(GuestDriver driver) {
        drivers.add(driver);
        vm.addGuestDriver(driver);
        return () -> {
            if (drivers.remove(driver)) {
                vm.removeGuestDriver(driver);
            }
        };
    }

    @Override
    public void reserveMemory(long gpa, long size) {
        vm.kernelMemory().reserve(new MemoryReservation(gpa, size, id));
    }

    /** Drops whatever the device left registered. */
    void release() {
        vm.kernelMemory().unreserve(id);
        for (AutoCloseable h : List.copyOf(sourceHandles)) {
            try {
                h.close();
            } catch (Exception e) {
                // a source that fails to close is gone anyway
            }
        }
        for (GuestDriver d : List.copyOf(drivers)) {
            drivers.remove(d);
            vm.removeGuestDriver(d);
        }
    }
}
