package io.godwit.dirty.ring.internal;

import io.godwit.api.dirty.DirtyTracker;
import io.godwit.dirty.testkit.DirtyTrackerContract;

/** The dirty ring passes the tracker test kit, with the smallest ring so ring-full exits happen often. */
class RingTrackerContractTest extends DirtyTrackerContract {

    @Override
    protected DirtyTracker tracker() {
        return new RingTracker(0, 1024);
    }

    @Override
    protected String name() {
        return RingTracker.NAME;
    }
}
