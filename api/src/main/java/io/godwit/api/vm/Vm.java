package io.godwit.api.vm;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.VmDevice;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import java.util.List;
import java.util.UUID;
import java.util.function.IntFunction;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One VM on this host. Implemented by the kernel; every method is thread safe.
 *
 * <p>{@link #stop} and {@link #cont} are the user's and the migration's way to park and release the
 * vCPUs; both act at quantum boundaries, so they return within about one quantum (10 ms).
 */
@ProviderType
public interface Vm {

    String name();

    UUID uuid();

    VmSpec spec();

    RunState state();

    /** Why the VM is in its state when that needs saying (a guest error with its pc), or empty. */
    String stateDetail();

    /**
     * Parks every vCPU and returns once none runs guest code (QEMU's {@code stop}, {@code vm_stop}).
     *
     * @param reason the state to enter: {@link RunState#PAUSED} for the user, or a migration state
     */
    void stop(RunState reason) throws InterruptedException;

    /**
     * As {@link #stop}, and returns the state the VM left: the state is read and changed under one
     * lock, so no user's {@code stop} or {@code cont} can fall between the reading and the stop (QEMU
     * takes {@code vm_was_running} the same way, under the BQL, in migration_completion). A migration
     * calls it with {@link RunState#FINISH_MIGRATE}; from then until the migration moves the VM to
     * another stopped state ({@link #setStoppedState}), the migration owns the run state and the
     * user's {@code stop} and {@code cont} are refused.
     *
     * @return the state before the stop; {@link RunState#RUNNING} when the guest was running
     */
    RunState stopAndGetPrevious(RunState reason) throws InterruptedException;

    /**
     * Lets the vCPUs run (QEMU's {@code cont}).
     *
     * @throws IllegalStateException when the VM cannot run (incoming, guest error, shut down) or a
     *     migration owns its run state ({@link RunState#FINISH_MIGRATE})
     */
    void cont();

    /** Moves a stopped VM to another stopped state (for example postmigrate or inmigrate). */
    void setStoppedState(RunState state);

    /** The VM's RAM. */
    GuestMemory memory();

    /** The VM's dirty logging: tracker and sources, one sync. */
    DirtyLogging dirtyLogging();

    /** The vCPUs as they are now. */
    List<VcpuInfo> cpus();

    /**
     * Throttles the vCPUs as QEMU's cpu-throttle does: each sleeps {@code pct/(100-pct)} x 10 ms per
     * 10 ms it runs.
     */
    void setThrottle(int percent);

    int throttle();

    /**
     * Runs the workload's oracle over guest memory.
     *
     * @throws IllegalStateException when the VM is running (stop it first)
     */
    OracleVerdict check();

    /** One line about the guest, for {@code info vms}. */
    String describeGuest();

    /** The guest's console output so far (see {@link io.godwit.api.cpu.Guest#console()}); empty if none. */
    default String console() {
        return "";
    }

    /** The state version vCPU {@code index} writes. */
    int vcpuStateVersion(int index);

    /**
     * Writes the registers and runtime context of vCPU {@code index} for migration.
     *
     * @throws IllegalStateException when the VM is running
     */
    void saveVcpuState(int index, StateOutput out);

    /**
     * Loads state written at {@code version} into vCPU {@code index}.
     *
     * @throws IllegalStateException when the VM is running
     * @throws io.godwit.api.state.StateFormatException when the state cannot be loaded
     */
    void loadVcpuState(int index, StateInput in, int version);

    /** A register dump of vCPU {@code index}, for {@code info registers}. */
    String describeVcpu(int index);

    /**
     * Saves every vCPU's state into {@code outputs.apply(index)} while the guest may run, each on its
     * own vCPU's thread at its next quantum boundary (a parked vCPU's on the caller's thread), and
     * returns the CPU time the saves themselves took, in ns, summed: what {@link #saveVcpuState} will
     * cost a stop-and-copy, measured before it (CPU time, not wall time: running vCPUs compete for the
     * host's CPUs, stopped ones do not). Each state is consistent for its vCPU, not with the others':
     * it is for measuring, never for migrating. Blocks the caller for about one quantum.
     */
    long timeVcpuStateSaves(IntFunction<StateOutput> outputs) throws InterruptedException;

    /** The VM's devices in creation order (the order their state migrates in). */
    default List<VmDevice> devices() {
        return List.of();
    }
}
