package io.godwit.dirty.wp.internal;

import io.godwit.api.dirty.DirtyTracker;
import io.godwit.dirty.testkit.DirtyTrackerContract;

/** Write protection passes the tracker test kit. */
class WpTrackerContractTest extends DirtyTrackerContract {

    @Override
    protected DirtyTracker tracker() {
        return new WpTracker(0);
    }

    @Override
    protected String name() {
        return WpTracker.NAME;
    }
}
