package io.godwit.api.device;

import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * State that is sent while the VM runs, pass after pass, like RAM (QEMU's SaveVMHandlers
 * {@code save_setup}, {@code save_live_iterate}, {@code state_pending}, {@code save_live_complete}).
 * Save methods run on the migration thread, load methods on the incoming migration thread.
 */
@ConsumerType
public interface IterativeState {

    /** Starts tracking changes and writes what the destination needs first. */
    void saveSetup(StateOutput out);

    /** Bytes still to send; the convergence decision counts them with RAM. */
    long pending();

    /**
     * Writes up to about {@code maxBytes} of pending state.
     *
     * @return true when nothing is pending any more
     */
    boolean saveIterate(StateOutput out, long maxBytes);

    /** Writes everything still pending. Called with the VM stopped. */
    void saveComplete(StateOutput out);

    /**
     * Ends the save side, however the migration ended (completed, failed, cancelled): drops the change
     * tracking {@link #saveSetup} installed. Called once on the migration thread after the last save
     * call, also when {@code saveSetup} never ran or threw; must not throw for that. The default does
     * nothing.
     */
    default void cleanup() {
    }

    /** Loads one part written by any of the save methods. */
    void load(StateInput in);
}
