package io.godwit.dirty.pml.internal;

import io.godwit.api.dirty.DirtyTracker;
import io.godwit.dirty.testkit.DirtyTrackerContract;

/** PML passes the tracker test kit. */
class PmlTrackerContractTest extends DirtyTrackerContract {

    @Override
    protected DirtyTracker tracker() {
        return new PmlTracker(0);
    }

    @Override
    protected String name() {
        return PmlTracker.NAME;
    }
}
