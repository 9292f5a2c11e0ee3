package io.godwit.dirty.testkit;

import io.godwit.api.dirty.DirtyTracker;
import io.godwit.kernel.internal.BitmapTracker;

/** The kernel's built-in TCG-style tracker passes the kit. */
class BitmapTrackerContractTest extends DirtyTrackerContract {

    @Override
    protected DirtyTracker tracker() {
        return new BitmapTracker();
    }

    @Override
    protected String name() {
        return "bitmap";
    }
}
