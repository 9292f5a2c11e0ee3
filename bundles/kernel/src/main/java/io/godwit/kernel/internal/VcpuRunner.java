package io.godwit.kernel.internal;

import io.godwit.api.cpu.Vcpu;
import io.godwit.api.cpu.VcpuContext;
import io.godwit.api.cpu.VcpuExit;
import io.godwit.api.memory.CpuMemory;
import io.godwit.api.memory.GuestMemoryFault;
import io.godwit.api.vm.VcpuInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's loop on one vCPU thread ({@code vcpu-<vm>-<n>}): runs the backend's {@link Vcpu} in
 * quanta and, between quanta, parks, runs rendezvous tasks and sleeps for the throttle. Everything a
 * KVM vCPU thread does between two KVM_RUN calls.
 *
 * <p>Shared fields are guarded by the VM's lock; {@code exitRequest} is the one field the backend
 * polls, so it is volatile.
 */
final class VcpuRunner implements Runnable, VcpuContext {

    /** QEMU's throttle timeslice: a throttled vCPU sleeps pct/(100-pct) of each 10 ms it ran. */
    static final long QUANTUM_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** A halted guest is looked at again after this long: a timer tick, as the guest has no interrupts. */
    static final long HALT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private static final Logger LOG = LoggerFactory.getLogger(VcpuRunner.class);
    private static final long RATE_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final KernelVm vm;
    private final int index;
    private final VcpuMemory memory;
    private Vcpu vcpu;
    private Thread thread;

    private volatile boolean exitRequest;
    // Guarded by vm.lock:
    private boolean parked = true;
    private boolean halted;
    /** Whether the halt is idleness (HALT), not a busy guest pacing itself (WAIT), which shows as running. */
    private boolean idle;
    /** Times this thread looked for work; a parked vCPU must not spin (guarded by the VM lock). */
    private long wakeups;
    /** While halted: when to look at the guest again (guarded by the VM lock). */
    private long haltedUntil;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    private long sampleTime;
    private long sampleProgress;
    private volatile double rate;
    /** The vCPU thread's host TID, QEMU's thread-id; -1 until the thread runs (or where unknown). */
    private volatile long hostTid = -1;
    /** How much the last throttle sleep overran; only the vCPU thread uses it. */
    private long throttleOversleep;

    VcpuRunner(KernelVm vm, int index, VcpuMemory memory) {
        this.vm = vm;
        this.index = index;
        this.memory = memory;
    }

    void start(Vcpu vcpu) {
        this.vcpu = vcpu;
        this.thread = Thread.ofPlatform().daemon().name("vcpu-" + vm.name() + "-" + index).unstarted(this);
        thread.start();
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public int vcpuCount() {
        return vm.spec().vcpus();
    }

    @Override
    public CpuMemory memory() {
        return memory;
    }

    VcpuMemory vcpuMemory() {
        return memory;
    }

    Vcpu vcpu() {
        return vcpu;
    }

    @Override
    public boolean exitRequested() {
        return exitRequest;
    }

    /** Asks the vCPU to leave guest code. Caller holds the VM lock and notifies. */
    void kick() {
        exitRequest = true;
    }

    long wakeupsLocked() {
        return wakeups;
    }

    /**
     * True when an action may run on the caller's thread instead: the vCPU cannot store, and no
     * rendezvous task waits in its queue. A vCPU that has parked with tasks still queued (for a
     * moment after its throttle sleep, or behind a caller that was interrupted while waiting) gets the
     * new action queued behind them, so a vCPU runs actions in the order they were asked for: a stale
     * {@code setHook(null)} must not run after the {@code setHook(h)} of the next start.
     */
    boolean parkedLocked() {
        if (thread == null || !thread.isAlive()) {
            return true;
        }
        return parked && tasks.isEmpty();
    }

    void enqueueLocked(Runnable task) {
        tasks.add(task);
        exitRequest = true;
    }

    Thread thread() {
        return thread;
    }

    @Override
    public void run() {
        hostTid = HostThread.currentTid();
        try {
            loop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() throws InterruptedException {
        while (true) {
            List<Runnable> todo = waitForWork();
            if (todo == null) {
                return;
            }
            if (!todo.isEmpty()) {
                todo.forEach(Runnable::run);
                continue;
            }
            long start = System.nanoTime();
            VcpuExit exit = runQuantum();
            if (index == 0 && (exit.reason() != VcpuExit.Reason.SHUTDOWN && exit.reason() != VcpuExit.Reason.GUEST_ERROR)) {
                exit = runDrivers(exit);
            }
            long ran = System.nanoTime() - start;
            sampleRate(start + ran);
            handle(exit);
            throttle(ran);
        }
    }

    /**
     * Waits under the VM lock until there is a task or the vCPU may run. Returns the tasks to run
     * (empty: run a quantum), or null when the VM is destroyed.
     */
    private List<Runnable> waitForWork() throws InterruptedException {
        synchronized (vm.lock) {
            while (true) {
                wakeups++;
                if (!tasks.isEmpty()) {
                    List<Runnable> todo = new ArrayList<>(tasks);
                    tasks.clear();
                    return todo;
                }
                if (vm.destroyedLocked()) {
                    parked = true;
                    vm.lock.notifyAll();
                    return null;
                }
                if (vm.runVcpusLocked() && !halted) {
                    parked = false;
                    exitRequest = false;
                    return List.of();
                }
                if (!parked) {
                    // Only a change is news (stop() waits for every vCPU to park). Notifying on
                    // every wake-up made the parked vCPUs of a VM wake each other in turn, for ever:
                    // a paused, incoming or halted 2-vCPU guest then burnt a host core.
                    parked = true;
                    vm.lock.notifyAll();
                }
                if (halted) {
                    // An idle guest waits for an interrupt; we have none, so poll at the timeslice,
                    // whatever else wakes this monitor meanwhile.
                    long left = haltedUntil - System.nanoTime();
                    if (left > 0) {
                        TimeUnit.NANOSECONDS.timedWait(vm.lock, left);
                    } else {
                        halted = false;
                    }
                } else {
                    vm.lock.wait();
                }
            }
        }
    }

    private VcpuExit runQuantum() {
        try {
            return vcpu.run(QUANTUM_NANOS);
        } catch (GuestMemoryFault e) {
            return VcpuExit.guestError(0, e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("vCPU {} of VM {} failed in its CPU backend", index, vm.name(), e);
            return VcpuExit.guestError(0, "CPU backend failed: " + e);
        }
    }

    /** The guest's device drivers run on vCPU 0, their stores on its CPU path. */
    private VcpuExit runDrivers(VcpuExit exit) {
        try {
            vm.runGuestDrivers(memory);
            return exit;
        } catch (GuestMemoryFault e) {
            return VcpuExit.guestError(0, "device driver: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("a device driver of VM {} failed", vm.name(), e);
            return VcpuExit.guestError(0, "device driver failed: " + e);
        }
    }

    private void handle(VcpuExit exit) {
        switch (exit.reason()) {
            case QUANTUM -> { }
            case HALT, WAIT -> {
                synchronized (vm.lock) {
                    halted = true;
                    idle = exit.reason() == VcpuExit.Reason.HALT;
                    haltedUntil = System.nanoTime() + HALT_POLL_NANOS;
                }
            }
            case SHUTDOWN -> vm.guestStopped(io.godwit.api.vm.RunState.SHUTDOWN, exit.message());
            case GUEST_ERROR -> vm.guestStopped(io.godwit.api.vm.RunState.GUEST_ERROR,
                    String.format("vcpu %d: %s (pc 0x%x)", index, exit.message(), exit.pc()));
        }
    }

    /** QEMU's cpu_throttle_thread: sleep pct/(100-pct) of the time just run. Wakes early when kicked. */
    private void throttle(long ranNanos) throws InterruptedException {
        int pct = vm.throttle();
        if (pct <= 0) {
            return;
        }
        // On a busy host a sleeping thread wakes late; the lateness is taken off the next sleep so the
        // vCPU still gets (100 - pct)% of the wall clock, as the throttle promises.
        long sleep = ranNanos * pct / (100 - pct) - throttleOversleep;
        long start = System.nanoTime();
        long deadline = start + Math.max(0, sleep);
        synchronized (vm.lock) {
            parked = true;
            vm.lock.notifyAll();
            long left;
            while ((left = deadline - System.nanoTime()) > 0 && vm.runVcpusLocked() && tasks.isEmpty()
                    && !vm.destroyedLocked()) {
                TimeUnit.NANOSECONDS.timedWait(vm.lock, left);
            }
        }
        long late = System.nanoTime() - start - sleep;
        throttleOversleep = Math.clamp(late, 0, 10 * QUANTUM_NANOS); // an early wake (a kick) is not made up
    }

    private void sampleRate(long now) {
        if (now - sampleTime >= RATE_WINDOW_NANOS) {
            long p = vcpu.progress();
            if (sampleTime != 0) {
                rate = (p - sampleProgress) * 1e9 / (now - sampleTime);
            }
            sampleTime = now;
            sampleProgress = p;
        }
    }

    VcpuInfo info() {
        String state;
        synchronized (vm.lock) {
            state = !vm.runVcpusLocked() ? "stopped" : halted && idle ? "halted" : "running";
        }
        double r = "stopped".equals(state) ? 0 : rate; // a rate-limited guest halts between bursts
        return new VcpuInfo(index, thread.getName(), hostTid, state, vcpu.progress(), vcpu.progressUnit(), r);
    }
}
