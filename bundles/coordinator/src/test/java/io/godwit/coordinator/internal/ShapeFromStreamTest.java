package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.proto.DeviceInfo;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.RamBlockInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code vm_create NAME --incoming URI} without a shape: the VM is made from the source's hello. A
 * live migration into it passes the oracle; a device option naming a file of the source's host is
 * mapped or refused; a hostile or unusable hello never makes a VM, says why in one line, and leaves
 * the name free for the next attempt.
 */
class ShapeFromStreamTest {

    private final VmManagerImpl vms = new VmManagerImpl();
    private final Coordinator coordinator;
    private final Path dir;
    private int socket;

    ShapeFromStreamTest() throws Exception {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        vms.addDeviceFactory(TestDevice.factory(), Map.of(DeviceFactory.NAME, TestDevice.TYPE));
        vms.addDeviceFactory(TestDevice.factory(), Map.of(DeviceFactory.NAME, "test-disk",
                DeviceFactory.LOCAL_OPTIONS, "image"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(new UnixTestTransport(), Map.of(Transport.SCHEME, "unix"));
        dir = Files.createTempDirectory("godwit-shape");
    }

    @AfterEach
    void close() throws Exception {
        coordinator.deactivate();
        vms.deactivate();
    }

    private String waitFor(String name, Map<String, String> map) {
        String uri = "unix:" + dir.resolve("s" + (++socket) + ".sock");
        coordinator.incomingFromStream(VmSpec.builder(name).incoming(uri).dirtyTracker("bitmap").build(), map, uri);
        return uri;
    }

    @Test
    void aDestinationMadeFromTheHelloTakesALiveMigrationWithTheOracleClean() throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(48 << 20).vcpus(2).workload("sweep:32M,rate=5000")
                .device(TestDevice.TYPE + ",fields=3").device("test-disk,image=" + dir.resolve("src.img")).build());
        String uri = waitFor("dst", Map.of("disk0", dir.resolve("dst.img").toString()));
        assertTrue(vms.get("dst").isEmpty(), "made before the source spoke");
        assertEquals(MigrationStatus.SETUP, coordinator.info("dst").status());
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src");
        assertEquals(MigrationStatus.COMPLETED, out.status(), out.toString());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(MigrationStatus.COMPLETED, await("dst").status());
        assertEquals(src.spec().memoryBytes(), dst.spec().memoryBytes());
        assertEquals(2, dst.spec().vcpus());
        assertEquals("sweep:32M,rate=5000", dst.spec().workload());
        assertEquals(src.uuid(), dst.uuid());
        assertEquals("bitmap", dst.dirtyLogging().trackerName(), "the host's own choice");
        assertEquals("test-dev,id=dev0,fields=3", dst.devices().get(0).options());
        assertEquals("test-disk,id=disk0,image=" + dir.resolve("dst.img"), dst.devices().get(1).options(),
                "the source's image path is never taken");
        awaitRunning(dst);
        dst.stop(RunState.PAUSED);
        var verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
    }

    @Test
    void aDeviceOnAFileOfTheSourcesHostIsRefusedWithoutADeviceMapAndTheSourceRunsOn() throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(16 << 20).workload("sweep:8M,rate=5000")
                .device("test-disk,image=" + dir.resolve("src.img")).build());
        String uri = waitFor("dst", Map.of());
        coordinator.migrate("src", uri);
        MigrationInfo out = await("src");
        assertEquals(MigrationStatus.FAILED, out.status(), out.toString());
        assertTrue(out.error().contains("give --device-map disk0=PATH"), out.error());
        MigrationInfo in = await("dst");
        assertEquals("the source's device disk0 (test-disk) needs its image on this host: give --device-map disk0=PATH",
                in.error());
        assertTrue(vms.get("dst").isEmpty(), "a VM was made from a refused hello");
        assertEquals(RunState.RUNNING, src.state(), "the source runs on");

        String again = waitFor("dst", Map.of("disk0.image", dir.resolve("dst.img").toString()));
        coordinator.migrate("src", again);
        assertEquals(MigrationStatus.COMPLETED, await("src").status());
        assertTrue(vms.get("dst").isPresent());
    }

    @Test
    void aDeviceMapForNoDeviceOfTheSourceIsRefused() throws Exception {
        vms.create(VmSpec.builder("src").memory(16 << 20).workload("sweep:8M,rate=5000").build());
        String uri = waitFor("dst", Map.of("blk0", "/tmp/x.img"));
        coordinator.migrate("src", uri);
        assertEquals(MigrationStatus.FAILED, await("src").status());
        assertEquals("--device-map blk0: the source has no such device or option (its devices: none)",
                await("dst").error());
        assertTrue(vms.get("dst").isEmpty());
    }

    /** Hellos a hostile or foreign source may send: none makes a VM, each says why in one line. */
    @Test
    void anUnusableHelloNeverMakesAVm() throws Exception {
        assertRefused(h -> h.setPageSize(8192), "page size 8192");
        assertRefused(h -> h.setVcpus(-1), "4294967295 vCPUs");
        assertRefused(h -> h.setVcpus(0), "0 vCPUs");
        assertRefused(h -> h.clearBlocks(), "0 RAM blocks");
        assertRefused(h -> h.setBlocks(0, block(-4096L)), "18446744073709547520 bytes");
        assertRefused(h -> h.setBlocks(0, block(4095)), "4095 bytes");
        assertRefused(h -> h.addBlocks(block(Long.MAX_VALUE - 4095)), "is not a whole number of pages");
        assertRefused(h -> h.setBlocks(0, block(1L << 50)), "cannot allocate");
        assertRefused(h -> h.setCpuBackend("qemu\u001b[2J"), "is not installed here");
        assertRefused(h -> h.setWorkload("/etc/shadow"), "is a file of its host");
        assertRefused(h -> h.setWorkload("boot.bin"), "is a file of its host");
        assertRefused(h -> h.setWorkload("no-such-workload"), "workload");
        assertRefused(h -> h.setUuid(ByteString.copyFrom(new byte[3])), "UUID of 3 bytes");
        assertRefused(h -> h.setVmName("x").addDevices(dev("net9", "virtio-gpu", "virtio-gpu")), "'virtio-gpu' is not installed");
        assertRefused(h -> h.addDevices(dev("disk0", "test-disk", "test-disk,image=/etc/passwd")), "give --device-map disk0=PATH");
        assertRefused(h -> h.addDevices(dev("dev0", TestDevice.TYPE, "test-dev,log=/var/log/x")), "give --device-map dev0=VALUE");
        assertRefused(h -> h.addDevices(dev("dev0", TestDevice.TYPE, "test-disk,fields=2")), "do not start with its type");
        assertRefused(h -> h.addDevices(dev("0bad", TestDevice.TYPE, "test-dev")), "bad id");
        assertRefused(h -> h.addDevices(dev("dev0", TestDevice.TYPE, "test-dev,version=9")), "state version");
        assertRefused(h -> h.addVcpuStateVersions(7).addVcpuStateVersions(7), "vCPU 0 state version 7");
    }

    private void assertRefused(UnaryOperator<Hello.Builder> change, String expected) throws Exception {
        String uri = waitFor("dst", Map.of());
        Hello hello = change.apply(Hello.newBuilder().setVmName("src").setPageSize(4096).setVcpus(1)
                .setCpuBackend("synthetic").setWorkload("idle").addBlocks(block(16 << 20))
                .setUuid(ByteString.copyFrom(VmDescription.uuidBytes(UUID.randomUUID())))).build();
        try (MigrationChannel c = new UnixTestTransport().connectOutgoing(uri.substring("unix:".length()))) {
            FrameWriter w = new FrameWriter(c);
            w.writeStreamHeader();
            w.writeMessage(FrameType.HELLO, hello);
            w.flush();
            MigrationInfo in = await("dst");
            assertEquals(MigrationStatus.FAILED, in.status(), expected + ": " + in);
            assertTrue(in.error().contains(expected), "expected '" + expected + "' in: " + in.error());
            assertFalse(in.error().contains("\n") || in.error().contains("Exception"), in.error());
        }
        assertTrue(vms.list().isEmpty(), expected + ": a VM was made: " + vms.list());
    }

    private static RamBlockInfo block(long size) {
        return RamBlockInfo.newBuilder().setName("pc.ram").setBase(0).setSize(size).build();
    }

    private static DeviceInfo dev(String id, String type, String options) {
        return DeviceInfo.newBuilder().setId(id).setType(type).setVersion(1).setOptions(options).build();
    }

    private MigrationInfo await(String vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }

    private static void awaitRunning(Vm vm) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (vm.state() != RunState.RUNNING && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(RunState.RUNNING, vm.state());
    }
}
