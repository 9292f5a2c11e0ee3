package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.wire.FrameReader;
import io.godwit.wire.FrameType;
import io.godwit.wire.WireException;
import io.godwit.wire.proto.RamBatch;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The RAM loader's checks of the indices a peer sends, with the destination's real memory. */
class RamLoaderTest {

    private final VmManagerImpl vms = new VmManagerImpl();

    RamLoaderTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
    }

    @AfterEach
    void close() throws InterruptedException {
        vms.deactivate();
    }

    /** One RAM frame: the batch header's varint length, the header, no page bytes. */
    private static FrameReader frame(RamBatch batch) {
        return frame(batch, new byte[0]);
    }

    /** One RAM frame: the batch header's varint length, the header, then {@code bytes}. */
    static FrameReader frame(RamBatch batch, byte[] bytes) {
        byte[] header = batch.toByteArray();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        for (int v = header.length; ; v >>>= 7) {
            if (v < 0x80) {
                payload.write(v);
                break;
            }
            payload.write(v & 0x7f | 0x80);
        }
        payload.writeBytes(header);
        payload.writeBytes(bytes);
        byte[] p = payload.toByteArray();
        byte[] frame = ByteBuffer.allocate(5 + p.length).put((byte) FrameType.RAM_PAGES.code()).putInt(p.length).put(p)
                .array();
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(frame)));
    }

    /**
     * The block index is a uint32: 2^31 and above read as a negative int, which passed the "below the
     * block count" check and threw IndexOutOfBoundsException, a raw exception with a stack trace.
     */
    @Test
    void aBlockIndexOf2To31OrMoreIsAWireErrorNotARawException() throws Exception {
        Vm vm = vms.create(VmSpec.builder("d").memory(1 << 20).workload("idle").incoming("defer").build());
        assertEquals(1, vm.memory().blocks().size());
        for (long block : new long[] {1, Integer.MAX_VALUE, 1L << 31, (1L << 32) - 1}) {
            FrameReader r = frame(RamBatch.newBuilder().setBlock((int) block).addZero(0).build());
            RamLoader loader = new RamLoader(vm.memory(), true, false);
            WireException e = assertThrows(WireException.class, () -> loader.load(r, r.next()), "block " + block);
            assertTrue(e.getMessage().equals("RAM batch names block " + block + " of 1"), e.getMessage());
        }
        FrameReader ok = frame(RamBatch.newBuilder().setBlock(0).addZero(3).build());
        RamLoader loader = new RamLoader(vm.memory(), true, false);
        loader.load(ok, ok.next());
        assertEquals(1, loader.duplicate);
    }
}
