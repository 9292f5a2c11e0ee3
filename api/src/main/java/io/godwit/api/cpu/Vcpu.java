package io.godwit.api.cpu;

import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One virtual CPU. The kernel calls {@link #run} in quanta on the vCPU's own thread
 * ({@code vcpu-<vm>-<n>}); pause, kick, throttle and state save happen between quanta, so the
 * methods here are never called concurrently with each other.
 */
@ConsumerType
public interface Vcpu {

    /**
     * Runs guest code for at most about {@code quantumNanos}, returning early when
     * {@link VcpuContext#exitRequested()} becomes true. Runs on the vCPU thread; must not block.
     */
    VcpuExit run(long quantumNanos);

    /**
     * Work retired so far (instructions, or page writes for a synthetic workload); monotonic. May be
     * read from any thread, so it is published with at least release semantics.
     */
    long progress();

    /** Unit of {@link #progress()}, for {@code info cpus}, for example {@code writes} or {@code insns}. */
    String progressUnit();

    /** Version of the state {@link #saveState} writes. */
    int stateVersion();

    /** Writes the registers and runtime context that migrate. Called with the vCPU stopped. */
    void saveState(StateOutput out);

    /**
     * Loads state written by {@link #saveState} at {@code version}. Called with the vCPU stopped.
     *
     * @throws io.godwit.api.state.StateFormatException for a version or field it cannot load
     */
    void loadState(StateInput in, int version);

    /** A register dump for {@code info registers}; one line per register group. */
    String describeState();
}
