package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VmSpec;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A create that fails at boot (a device that cannot start) leaves nothing behind. */
class BootFailureTest {

    private final Host host = new Host();
    private final AtomicInteger unrealized = new AtomicInteger();

    @AfterEach
    void close() throws InterruptedException {
        host.close();
    }

    @Test
    void aDeviceThatCannotStartLeavesNoThreadsAndNoDevice() throws Exception {
        host.manager.addDeviceFactory((ctx, o) -> new FailingDevice(), Map.of(DeviceFactory.NAME, "failing"));
        RuntimeException e = assertThrows(RuntimeException.class, () -> host.manager.create(
                VmSpec.builder("bf").memory(8 << 20).vcpus(2).workload("sweep").device("failing").build()));
        assertTrue(e.getMessage().contains("cannot start"), e.getMessage());
        assertEquals(1, unrealized.get(), "the device was not unrealized");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (vcpuThreadsAlive("bf")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("vCPU threads of the failed VM still run");
            }
            Thread.sleep(10);
        }
        assertTrue(host.manager.get("bf").isEmpty());
        // The name is free again and a VM of it runs.
        assertEquals(RunState.RUNNING, host.create("bf", 8 << 20, 1, "sweep").state());
    }

    @Test
    void aWorkloadSizeOverADevicesMemoryIsRefused() throws InterruptedException {
        host.manager.addDeviceFactory((ctx, o) -> new ReservingDevice(ctx), Map.of(DeviceFactory.NAME, "rings"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> host.manager.create(
                VmSpec.builder("ov").memory(8 << 20).workload("sweep:8M").device("rings").build()));
        assertTrue(e.getMessage().contains("over rings0's memory"), e.getMessage());
        assertTrue(host.manager.get("ov").isEmpty());
        // Below the device's memory it runs; without a size, sweep and fill take the RAM the device leaves.
        for (String workload : new String[] {"sweep:4M", "sweep", "fill"}) {
            var vm = host.manager.create(VmSpec.builder("ok").memory(8 << 20).workload(workload).device("rings").build());
            assertEquals(RunState.RUNNING, vm.state(), workload);
            host.manager.destroy("ok");
        }
    }

    /** Reserves the top MiB of RAM, as virtio-net's rings do. */
    private static final class ReservingDevice extends StatelessDevice {
        private final DeviceContext ctx;

        ReservingDevice(DeviceContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void realize() {
            ctx.reserveMemory(ctx.memory().size() - (1 << 20), 1 << 20);
        }

    }

    private static boolean vcpuThreadsAlive(String vm) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().startsWith("vcpu-" + vm + "-"));
    }

    private final class FailingDevice extends StatelessDevice {
        @Override
        public void realize() { }

        @Override
        public void resume() {
            throw new IllegalStateException("the backend cannot start");
        }

        @Override
        public void unrealize() {
            unrealized.incrementAndGet();
        }
    }
}
