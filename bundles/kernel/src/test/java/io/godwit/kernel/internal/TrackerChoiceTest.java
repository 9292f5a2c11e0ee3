package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.dirty.DirtyBitmap;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which tracker a VM gets, and what happens to it when its tracker's bundle goes away. */
class TrackerChoiceTest {

    private final Host host = new Host();
    /** Stands in for the pml bundle's service: any tracker registered under the default name. */
    private final DirtyTracker defaultTracker = new BitmapTracker();
    private final Map<String, Object> defaultProps = Map.of(DirtyTracker.NAME, VmSpec.DEFAULT_TRACKER);

    @AfterEach
    void close() throws InterruptedException {
        host.close();
    }

    @Test
    void theDefaultFallsBackToTheBitmapWhenItIsNotInstalled() {
        Vm vm = host.create("a", 16 << 20, 1, "idle");
        assertEquals(VmSpec.FALLBACK_TRACKER, vm.dirtyLogging().trackerName());
        assertEquals(Map.of("bitmap", new BitmapTracker().description()), host.manager.dirtyTrackerDescriptions());
    }

    @Test
    void theDefaultIsUsedWhenInstalledAndANamedTrackerNeverFallsBack() {
        host.manager.addDirtyTracker(defaultTracker, defaultProps);
        assertEquals(VmSpec.DEFAULT_TRACKER, host.create("a", 16 << 20, 1, "idle").dirtyLogging().trackerName());
        VmSpec wp = VmSpec.builder("b").memory(16 << 20).dirtyTracker("wp").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> host.manager.create(wp));
        assertEquals("unknown dirty tracker 'wp' (installed: bitmap, pml)", e.getMessage());
    }

    @Test
    void removingTheTrackerUnderLoggingBreaksThatRoundAndTheVmGoesOn() throws Exception {
        host.manager.addDirtyTracker(defaultTracker, defaultProps);
        Vm vm = host.create("a", 16 << 20, 2, "sweep");
        DirtyLogging log = vm.dirtyLogging();
        DirtyBitmap bitmap = new DirtyBitmap(vm.memory().pages());
        log.start();
        VmLifecycleTest.awaitProgress(vm, 8192);
        assertTrue(log.sync(bitmap) > 0);

        host.manager.removeDirtyTracker(defaultTracker, defaultProps);

        assertEquals(VmSpec.FALLBACK_TRACKER, log.trackerName());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.sync(bitmap));
        assertTrue(e.getMessage().contains("dirty tracker 'pml' was removed"), e.getMessage());
        assertEquals(RunState.RUNNING, vm.state());
        long before = vm.cpus().get(0).progress();
        VmLifecycleTest.awaitProgress(vm, before * 2 + 8192); // the vCPUs go on

        // A new round, as the next migration would start, logs with the fallback and works.
        log.stop();
        log.start();
        bitmap.clear();
        long mark = vm.cpus().stream().mapToLong(c -> c.progress()).sum();
        VmLifecycleTest.awaitProgress(vm, mark + 8192);
        assertTrue(log.sync(bitmap) > 0, "the fallback tracker sees the sweep");
        log.stop();
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().clean(), vm.check().toString());
    }

    @Test
    void removingAnUnusedTrackerLeavesOtherVmsAlone() throws Exception {
        host.manager.addDirtyTracker(defaultTracker, defaultProps);
        Vm onBitmap = host.manager.create(VmSpec.builder("a").memory(16 << 20).dirtyTracker("bitmap").build());
        Vm onDefault = host.create("b", 16 << 20, 1, "idle");
        onBitmap.dirtyLogging().start();
        onDefault.dirtyLogging().start();
        host.manager.removeDirtyTracker(defaultTracker, defaultProps);
        // The VM on the removed tracker moved and its round broke; the other one's round goes on.
        assertEquals(VmSpec.FALLBACK_TRACKER, onDefault.dirtyLogging().trackerName());
        assertThrows(IllegalStateException.class,
                () -> onDefault.dirtyLogging().sync(new DirtyBitmap(onDefault.memory().pages())));
        onBitmap.dirtyLogging().sync(new DirtyBitmap(onBitmap.memory().pages())); // does not throw
        onBitmap.dirtyLogging().stop();
        onDefault.dirtyLogging().stop();
    }
}
