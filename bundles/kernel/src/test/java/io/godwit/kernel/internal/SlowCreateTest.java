package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.device.DeviceFactory;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A create that takes long (preallocating many GiB does) holds up nobody who looks at the other VMs:
 * a management tool polls {@code query-migrate} of a migrating VM while another is being made.
 */
class SlowCreateTest {

    private final Host host = new Host();
    private final CountDownLatch realizing = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() throws InterruptedException {
        release.countDown();
        host.close();
    }

    @Test
    void lookupsOfOtherVmsDoNotWaitForACreateUnderWay() throws Exception {
        host.manager.addDeviceFactory((ctx, o) -> new SlowDevice(), Map.of(DeviceFactory.NAME, "slow"));
        Vm running = host.create("running", 8 << 20, 1, "sweep:rate=500");
        CompletableFuture<Vm> slow = CompletableFuture.supplyAsync(() -> host.manager.create(
                VmSpec.builder("slow").memory(8 << 20).workload("sweep").device("slow").build()));
        assertTrue(realizing.await(60, TimeUnit.SECONDS), "the slow VM's device was never realized");
        // Not a speed check: with the registry locked for the whole create these never return.
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertEquals(running, host.manager.get("running").orElseThrow());
            assertTrue(host.manager.get("slow").isEmpty(), "a VM half made is not listed");
            assertEquals(1, host.manager.list().size());
            assertEquals("running", running.cpus().get(0).state());
        }, "a lookup waited for another VM's create");
        release.countDown();
        Vm made = slow.get(60, TimeUnit.SECONDS);
        assertEquals(RunState.RUNNING, made.state());
        assertEquals(made, host.manager.get("slow").orElseThrow());
    }

    /** Stands for a create that takes long: its realize waits until the test lets it go. */
    private final class SlowDevice extends StatelessDevice {
        @Override
        public void realize() {
            realizing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

    }
}
