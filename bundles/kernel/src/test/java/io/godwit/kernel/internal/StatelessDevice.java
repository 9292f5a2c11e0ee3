package io.godwit.kernel.internal;

import io.godwit.api.device.Device;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;

/** A test device with no state and nothing to do but what {@link #realize} says. */
abstract class StatelessDevice implements Device {

    @Override
    public void reset() { }

    @Override
    public void pause() { }

    @Override
    public void resume() { }

    @Override
    public void unrealize() { }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateOutput out) { }

    @Override
    public void loadState(StateInput in, int version) { }
}
