package io.godwit.kernel.internal;

import io.godwit.api.cpu.Guest;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.device.GuestDriver;
import io.godwit.api.device.VmDevice;
import io.godwit.api.memory.CpuMemory;
import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.dirty.VcpuRendezvous;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VM: its RAM, its vCPU runners, its run state and its dirty logging.
 *
 * <p>{@link #lock} guards the run state and every runner's parking; runners wait on it. Nothing
 * holds it while guest code runs.
 */
final class KernelVm implements Vm, VcpuRendezvous {

    private static final Logger LOG = LoggerFactory.getLogger(KernelVm.class);

    final Object lock = new Object();
    /**
     * Held through a whole {@code stop} or {@code cont}, device pause or resume included, so that the two
     * never interleave: a {@code cont} whose checks passed cannot resume the devices or the vCPUs after
     * a migration's stop in between. Taken before {@link #lock}, never by a vCPU.
     */
    private final Object transition = new Object();

    private final VmSpec spec;
    private final String cpuBackend;
    private final KernelGuestMemory memory;
    private final Guest guest;
    private final VcpuRunner[] runners;
    private final KernelDirtyLogging dirtyLogging;
    private final KernelDevices devices = new KernelDevices();
    private final List<GuestDriver> drivers = new CopyOnWriteArrayList<>();

    // Guarded by lock:
    private RunState state;
    private String detail = "";
    private boolean runVcpus;
    private boolean destroyed;

    private volatile int throttle;
    /** Told of every run state change, under {@link #lock}; set before {@link #boot}. */
    private volatile StateListener stateListener = (vm, from, to) -> { };

    /** Run state changes, in order, on the thread that makes them, under the VM's lock: must not block. */
    @FunctionalInterface
    interface StateListener {
        void changed(KernelVm vm, RunState from, RunState to);
    }

    KernelVm(VmSpec spec, KernelGuestMemory memory, Guest guest, String trackerName, DirtyLog trackerLog) {
        this.spec = spec;
        this.cpuBackend = spec.cpuBackend();
        this.memory = memory;
        this.guest = guest;
        this.runners = new VcpuRunner[spec.vcpus()];
        memory.setVcpus(spec.vcpus());
        for (int i = 0; i < runners.length; i++) {
            runners[i] = new VcpuRunner(this, i, new VcpuMemory(memory, i));
        }
        this.dirtyLogging = new KernelDirtyLogging(trackerName, trackerLog, this, runners, memory.dmaLog());
        this.state = spec.incoming() != null ? RunState.INMIGRATE : RunState.PRELAUNCH;
    }

    /** Who hears of the run state changes ({@link io.godwit.api.vm.VmListener#runStateChanged}); before {@link #boot}. */
    void onStateChange(StateListener listener) {
        stateListener = listener;
    }

    /** Caller holds {@link #lock}: the listener hears the changes in the order they are made. */
    private void setStateLocked(RunState to) {
        RunState from = state;
        state = to;
        if (from != to) {
            stateListener.changed(this, from, to);
        }
    }

    /** Makes and realizes the spec's devices; before {@link #boot}. */
    void createDevices(Function<String, DeviceFactory> factories) {
        devices.create(this, spec.devices(), factories);
    }

    @Override
    public List<VmDevice> devices() {
        return devices.list();
    }

    void addGuestDriver(GuestDriver d) {
        drivers.add(d);
    }

    void removeGuestDriver(GuestDriver d) {
        drivers.remove(d);
    }

    /** Runs the device drivers of the guest on vCPU 0's thread, between two quanta. */
    void runGuestDrivers(CpuMemory cpu) {
        for (GuestDriver d : drivers) {
            d.run(cpu);
        }
    }

    /** Makes the vCPUs and starts their threads, parked; then runs them unless paused or incoming. */
    void boot() {
        for (VcpuRunner r : runners) {
            r.start(guest.createVcpu(r));
        }
        if (!spec.startPaused() && spec.incoming() == null) {
            cont();
        }
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public UUID uuid() {
        return spec.uuid();
    }

    @Override
    public VmSpec spec() {
        return spec;
    }

    String cpuBackend() {
        return cpuBackend;
    }

    @Override
    public RunState state() {
        synchronized (lock) {
            return state;
        }
    }

    @Override
    public String stateDetail() {
        synchronized (lock) {
            return detail;
        }
    }

    boolean runVcpusLocked() {
        return runVcpus;
    }

    boolean destroyedLocked() {
        return destroyed;
    }

    @Override
    public void stop(RunState reason) throws InterruptedException {
        stopAndGetPrevious(reason);
    }

    @Override
    public RunState stopAndGetPrevious(RunState reason) throws InterruptedException {
        synchronized (transition) {
            RunState before;
            synchronized (lock) {
                checkNotDestroyed();
                if (reason == RunState.PAUSED) {
                    requireNotOwnedByMigration("stop");
                }
                before = state;
                runVcpus = false;
                if (state == RunState.RUNNING || reason != RunState.PAUSED) {
                    setStateLocked(reason);
                }
                for (VcpuRunner r : runners) {
                    r.kick();
                }
                lock.notifyAll();
                while (!allParkedLocked()) {
                    lock.wait();
                }
            }
            devices.pause(); // vhost stops after the vCPUs, before the final dirty sync reads its log
            return before;
        }
    }

    /**
     * Between a migration's stop and its end the migration alone decides whether the guest runs
     * (here or on the destination): a user's {@code cont} then would run the guest on both hosts, a
     * user's {@code stop} would be silently undone by a failed migration's resume. QEMU refuses
     * {@code cont} there too ("Migration is not finalized yet").
     */
    private void requireNotOwnedByMigration(String command) {
        if (state == RunState.FINISH_MIGRATE) {
            throw new IllegalStateException("VM '" + name() + "' is in finish-migrate: its migration decides "
                    + "whether it runs until the migration ends (migrate_cancel ends it); " + command + " refused");
        }
    }

    @Override
    public void cont() {
        synchronized (transition) {
            synchronized (lock) {
                requireCanRunLocked();
            }
            devices.resume(); // backends run before the guest does (QEMU's vm_start order)
            synchronized (lock) {
                requireCanRunLocked(); // a guest error may have stopped it meanwhile
                setStateLocked(RunState.RUNNING);
                detail = "";
                runVcpus = true;
                lock.notifyAll();
            }
        }
    }

    private void requireCanRunLocked() {
        checkNotDestroyed();
        requireNotOwnedByMigration("cont");
        switch (state) {
            case INMIGRATE -> throw new IllegalStateException(
                    "VM '" + name() + "' is waiting for an incoming migration");
            case GUEST_ERROR, SHUTDOWN -> throw new IllegalStateException(
                    "VM '" + name() + "' is in state " + state + " (" + detail + "): it cannot run again");
            default -> { }
        }
    }

    @Override
    public void setStoppedState(RunState newState) {
        synchronized (lock) {
            if (runVcpus || newState == RunState.RUNNING) {
                throw new IllegalStateException("VM '" + name() + "' is running: stop it first");
            }
            setStateLocked(newState);
        }
    }

    /**
     * A vCPU hit a guest error or shutdown, or a bundle the VM runs on went away: the whole VM stops.
     * Called on that vCPU's thread or on the departing service's thread. The devices pause too, as at
     * {@link #stop}, once every vCPU parked: on a thread of its own ({@code vm-stop-<vm>}), since a
     * vCPU cannot wait for itself to park.
     */
    void guestStopped(RunState newState, String why) {
        synchronized (lock) {
            if (state == RunState.GUEST_ERROR) {
                return;
            }
            LOG.info("VM {} stopped: {} ({})", name(), newState, why);
            setStateLocked(newState);
            detail = why;
            runVcpus = false;
            for (VcpuRunner r : runners) {
                r.kick();
            }
            lock.notifyAll();
        }
        Thread.ofPlatform().daemon().name("vm-stop-" + name()).start(() -> {
            try {
                pauseDevicesWhenParked();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * Waits until every vCPU parked (vCPU 0 may be inside a device's guest driver, holding the
     * device's monitor), then pauses the devices outside the VM lock. Nothing to do when the VM runs
     * again meanwhile or is destroyed (destroy unrealizes them).
     */
    void pauseDevicesWhenParked() throws InterruptedException {
        synchronized (lock) {
            while (!allParkedLocked() && !destroyed && !runVcpus) {
                lock.wait();
            }
            if (destroyed || runVcpus) {
                return;
            }
        }
        devices.pause();
    }

    private boolean allParkedLocked() {
        return Arrays.stream(runners).allMatch(VcpuRunner::parkedLocked);
    }

    private void checkNotDestroyed() {
        if (destroyed) {
            throw new IllegalStateException("VM '" + name() + "' has been destroyed");
        }
    }

    @Override
    public void onEachVcpu(IntConsumer action) throws InterruptedException {
        CountDownLatch done;
        synchronized (lock) {
            List<VcpuRunner> running = new ArrayList<>();
            for (VcpuRunner r : runners) {
                if (r.parkedLocked()) {
                    kicked(r, action); // parked: it cannot store while we hold the lock
                } else {
                    running.add(r);
                }
            }
            done = new CountDownLatch(running.size());
            for (VcpuRunner r : running) {
                r.enqueueLocked(() -> {
                    try {
                        kicked(r, action);
                    } finally {
                        done.countDown();
                    }
                });
            }
            lock.notifyAll();
        }
        done.await();
    }

    /** A kick: the vCPU forgets its cached store window (a TLB flush), then runs the action. */
    private static void kicked(VcpuRunner r, IntConsumer action) {
        r.vcpuMemory().dropStoreWindow();
        action.accept(r.index());
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    /** Moves the VM to another tracker because its own is going away; see KernelDirtyLogging. */
    void trackerRemoved(String replacementName, DirtyLog replacement) throws InterruptedException {
        dirtyLogging.trackerRemoved(replacementName, replacement);
    }

    KernelGuestMemory kernelMemory() {
        return memory;
    }

    @Override
    public DirtyLogging dirtyLogging() {
        return dirtyLogging;
    }

    VcpuRunner[] runners() {
        return runners;
    }

    @Override
    public List<VcpuInfo> cpus() {
        return Arrays.stream(runners).map(VcpuRunner::info).toList();
    }

    @Override
    public void setThrottle(int percent) {
        if (percent < 0 || percent > 99) {
            throw new IllegalArgumentException("throttle must be between 0 and 99 percent: " + percent);
        }
        throttle = percent;
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    @Override
    public int throttle() {
        return throttle;
    }

    @Override
    public OracleVerdict check() {
        synchronized (lock) {
            requireStopped();
        }
        OracleVerdict ram = guest.check(memory);
        List<OracleVerdict> devs = devices.check();
        if (devs.isEmpty()) {
            return ram;
        }
        long checked = ram.pagesChecked();
        long bad = ram.badPages();
        List<String> examples = new ArrayList<>(ram.examples());
        StringBuilder summary = new StringBuilder(ram.summary());
        for (OracleVerdict d : devs) {
            checked += d.pagesChecked();
            bad += d.badPages();
            examples.addAll(d.examples());
            summary.append("; ").append(d.summary());
        }
        return new OracleVerdict(checked, bad, examples, summary.toString());
    }

    @Override
    public String describeGuest() {
        return guest.describe();
    }

    @Override
    public String console() {
        return guest.console();
    }

    @Override
    public int vcpuStateVersion(int index) {
        return runner(index).vcpu().stateVersion();
    }

    @Override
    public void saveVcpuState(int index, StateOutput out) {
        VcpuRunner r = runner(index);
        synchronized (lock) {
            requireStopped();
            r.vcpu().saveState(out);
        }
    }

    @Override
    public void loadVcpuState(int index, StateInput in, int version) {
        VcpuRunner r = runner(index);
        synchronized (lock) {
            requireStopped();
            r.vcpu().loadState(in, version);
        }
    }

    @Override
    public long timeVcpuStateSaves(IntFunction<StateOutput> outputs) throws InterruptedException {
        java.util.concurrent.atomic.AtomicLong total = new java.util.concurrent.atomic.AtomicLong();
        onEachVcpu(i -> {
            StateOutput out = outputs.apply(i);
            long t0 = cpuNanos();
            runners[i].vcpu().saveState(out); // at a quantum boundary, on the thread that owns the state
            total.addAndGet(cpuNanos() - t0);
        });
        return total.get();
    }

    /**
     * This thread's CPU time: the running vCPUs compete for the host's CPUs, so a save's wall time
     * would count the waits of a preempted vCPU thread (64 busy vCPUs on 2 cores: 1.2 s for
     * microseconds of work), which the stop-and-copy's saves, with the vCPUs stopped, do not have.
     */
    private static long cpuNanos() {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : System.nanoTime();
    }

    @Override
    public String describeVcpu(int index) {
        VcpuRunner r = runner(index);
        synchronized (lock) {
            return r.vcpu().describeState();
        }
    }

    private VcpuRunner runner(int index) {
        if (index < 0 || index >= runners.length) {
            throw new IllegalArgumentException("VM '" + name() + "' has no vCPU " + index);
        }
        return runners[index];
    }

    /** Caller holds the lock. vCPU state is only touched with every vCPU parked. */
    private void requireStopped() {
        if (runVcpus || !allParkedLocked()) {
            throw new IllegalStateException("VM '" + name() + "' is running: stop it first");
        }
    }

    /** Stops the vCPU threads for good and frees RAM. */
    void destroy() throws InterruptedException {
        synchronized (lock) {
            if (destroyed) {
                return;
            }
            destroyed = true;
            runVcpus = false;
            KernelPostcopy pc = memory.postcopy;
            if (pc != null) {
                pc.abort("VM '" + name() + "' was destroyed"); // a vCPU waiting for a page must not hang the join
            }
            for (VcpuRunner r : runners) {
                r.kick();
            }
            lock.notifyAll();
        }
        boolean joined = true;
        for (VcpuRunner r : runners) {
            if (r.thread() != null) {
                r.thread().join(5000);
                joined &= !r.thread().isAlive();
            }
        }
        devices.unrealizeAll();
        if (dirtyLogging.active()) {
            dirtyLogging.stop();
        }
        if (joined) {
            memory.close();
        } else {
            LOG.warn("VM {}: a vCPU thread did not stop; its RAM stays mapped", name());
        }
    }
}
