package io.godwit.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import io.godwit.wire.FrameReader;
import io.godwit.wire.FrameType;
import io.godwit.wire.FrameWriter;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.RamBatch;
import io.godwit.wire.proto.ReturnMessage;
import io.godwit.wire.proto.SectionStart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the destination acknowledges is what it applied, not what it read: a source that takes an
 * acknowledgement as the end of a zero page's header may write that page (rdma's fence), so by the
 * time an acknowledgement covers the header, the page must be zero in guest memory already.
 */
class AcknowledgementTest {

    private static final long PAGE = 7;

    private final VmManagerImpl vms = new VmManagerImpl();

    AcknowledgementTest() {
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
    }

    @AfterEach
    void close() throws Exception {
        vms.deactivate();
    }

    /** An acknowledgement as the source saw it, with what page {@link #PAGE} held when it was sent. */
    private record Ack(ReturnMessage.Kind kind, long bytes, byte pageByte) {}

    @Test
    void noAcknowledgementCoversAFrameReadIntoTheBufferButNotApplied() throws Exception {
        Vm dst = vms.create(VmSpec.builder("dst").memory(1 << 20).workload("idle").incoming("defer").build());
        // What an earlier pass or the VMM left there: the zero index below must clear it.
        dst.memory().dmaWrite(PAGE * 4096, MemorySegment.ofArray(new byte[] {42}));

        // One write of the whole stream: the destination reads it all into its buffer at once.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FrameWriter w = new FrameWriter(into(bytes));
        w.writeStreamHeader();
        w.writeMessage(FrameType.HELLO, VmDescription.hello(dst, List.of(MigrationCapability.RETURN_PATH.qemuName())));
        w.writeMessage(FrameType.SECTION_START, SectionStart.newBuilder().setSectionId(OutgoingMigration.RAM_SECTION)
                .setName("ram").setVersion(1).build());
        ping(w, 1);
        w.flush();
        long endOfFirstPing = w.bytesWritten();
        w.writePages(RamBatch.newBuilder().setBlock(0).addZero(PAGE).build(), new ByteBuffer[0], 0);
        long endOfZeroBatch = w.bytesWritten();
        ping(w, 2);
        w.flush();

        List<Ack> acks = new ArrayList<>();
        MemorySegment ram = dst.memory().blocks().get(0).raw();
        IncomingListener listener = new StreamListener(bytes.toByteArray(), m -> {
            if (m.getKind() == ReturnMessage.Kind.ACK || m.getKind() == ReturnMessage.Kind.PONG) {
                acks.add(new Ack(m.getKind(), m.getBytesReceived(), ram.get(ValueLayout.JAVA_BYTE, PAGE * 4096)));
            }
        });
        IncomingMigration in = new IncomingMigration(dst, listener, false, new Events() {
            @Override
            public void status(String vm, MigrationStatus status) {}

            @Override
            public void pass(String vm, long pass) {}
        });
        in.run(); // on this thread: it loads what the stream holds, then fails at its end

        assertEquals(MigrationStatus.FAILED, in.status(), "the stream ends without COMPLETE");
        Ack firstPong = acks.stream().filter(a -> a.kind() == ReturnMessage.Kind.PONG).findFirst().orElseThrow();
        assertEquals(endOfFirstPing, firstPong.bytes(),
                "the first PONG covers the stream up to its PING, not the frames read after it: " + acks);
        boolean zeroCovered = false;
        for (Ack a : acks) {
            if (a.bytes() >= endOfZeroBatch) {
                zeroCovered = true;
                assertEquals(0, a.pageByte(), "acknowledged " + a + " before the zero page was applied");
            }
        }
        assertTrue(zeroCovered, "the second PONG covers the zero page's batch: " + acks);
    }

    private static java.nio.channels.GatheringByteChannel into(ByteArrayOutputStream out) {
        return new java.nio.channels.GatheringByteChannel() {
            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) {
                long n = 0;
                for (int i = offset; i < offset + length; i++) {
                    n += write(srcs[i]);
                }
                return n;
            }

            @Override
            public long write(ByteBuffer[] srcs) {
                return write(srcs, 0, srcs.length);
            }

            @Override
            public int write(ByteBuffer src) {
                byte[] b = new byte[src.remaining()];
                src.get(b);
                out.writeBytes(b);
                return b.length;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
    }

    private static void ping(FrameWriter w, long value) throws IOException {
        w.writeMessage(FrameType.COMMAND, Command.newBuilder().setKind(Command.Kind.PING).setValue(value).build());
    }

    /**
     * Accepts one channel that reads the given bytes (up to 8 KiB a read: this whole stream at once),
     * then the end of the stream; each return-path frame the destination writes goes to {@code answers}.
     */
    private static final class StreamListener implements IncomingListener {
        private final java.nio.channels.ReadableByteChannel stream;
        private final java.util.function.Consumer<ReturnMessage> answers;

        StreamListener(byte[] stream, java.util.function.Consumer<ReturnMessage> answers) {
            this.stream = Channels.newChannel(new java.io.ByteArrayInputStream(stream));
            this.answers = answers;
        }

        @Override
        public String uri() {
            return "test:";
        }

        @Override
        public MigrationChannel accept() {
            return new MigrationChannel() {
                private boolean open = true;

                @Override
                public String name() {
                    return "test";
                }

                @Override
                public void shutdownOutput() {}

                @Override
                public int read(ByteBuffer dst) throws IOException {
                    return stream.read(dst);
                }

                @Override
                public int write(ByteBuffer src) throws IOException {
                    return (int) write(new ByteBuffer[] {src}, 0, 1);
                }

                @Override
                public long write(ByteBuffer[] srcs) throws IOException {
                    return write(srcs, 0, srcs.length);
                }

                @Override
                public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                    ByteArrayOutputStream frame = new ByteArrayOutputStream();
                    for (int i = offset; i < offset + length; i++) {
                        byte[] b = new byte[srcs[i].remaining()];
                        srcs[i].get(b);
                        frame.writeBytes(b);
                    }
                    FrameReader r = new FrameReader(Channels.newChannel(
                            new java.io.ByteArrayInputStream(frame.toByteArray())));
                    answers.accept(r.readMessage(r.next(), ReturnMessage.parser()));
                    return frame.size();
                }

                @Override
                public boolean isOpen() {
                    return open;
                }

                @Override
                public void close() {
                    open = false;
                }
            };
        }

        @Override
        public void close() {}
    }
}
