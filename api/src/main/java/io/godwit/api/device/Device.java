package io.godwit.api.device;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import java.util.Optional;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One device of a VM, with a lifecycle and versioned state (QEMU's DeviceState with its VMState).
 *
 * <p>Lifecycle calls come from the thread that starts, stops or migrates the VM, never concurrently
 * with each other.
 */
@ConsumerType
public interface Device {

    /** Brings the device up before the VM first runs (QEMU's realize). */
    void realize();

    /** Puts the device in its power-on state. */
    void reset();

    /** Stops the device's own work (its worker threads quiesce) when the VM stops. */
    void pause();

    /** Restarts the device's work when the VM runs again. */
    void resume();

    /** Frees everything; the device is not used again. */
    void unrealize();

    /** The version {@link #saveState} writes. */
    int stateVersion();

    /** The oldest version {@link #loadState} accepts. */
    default int minimumStateVersion() {
        return stateVersion();
    }

    /** Writes the device state. Called on the migration thread with the VM stopped. */
    void saveState(StateOutput out);

    /**
     * Loads state written at {@code version}. Called on the incoming migration thread with the VM
     * stopped.
     *
     * @throws io.godwit.api.state.StateFormatException when the state cannot be loaded
     */
    void loadState(StateInput in, int version);

    /**
     * True when the device writes guest RAM outside the CPU and DMA paths (as vhost does); such a
     * device must register a dirty log source.
     */
    default boolean writesGuestMemoryDirectly() {
        return false;
    }

    /** One line for {@code info devices}: the device's state and counters now. */
    default String describe() {
        return "";
    }

    /**
     * The device's oracle, run by {@code vm_check} with the VM stopped: what the guest driver and the
     * device's rings must agree on. Empty for a device with nothing to check.
     */
    default Optional<OracleVerdict> check() {
        return Optional.empty();
    }

    /** Large state that moves iteratively, like RAM (a disk); empty for most devices. */
    default Optional<IterativeState> iterativeState() {
        return Optional.empty();
    }
}
