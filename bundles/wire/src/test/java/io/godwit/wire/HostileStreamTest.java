package io.godwit.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.RamBatch;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reader's side of the contract: every byte is hostile. */
class HostileStreamTest {

    /** A GatheringByteChannel over a byte array, for writing test streams. */
    private static final class Sink implements GatheringByteChannel {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final WritableByteChannel ch = Channels.newChannel(bytes);

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += ch.write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return ch.write(src);
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    private static FrameReader reader(byte[] stream) {
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(stream)), 64 << 10);
    }

    @Test
    void aWellFormedStreamRoundTripsWithPagesIntoMemory() throws IOException {
        Sink sink = new Sink();
        FrameWriter w = new FrameWriter(sink);
        w.writeStreamHeader();
        w.writeMessage(FrameType.HELLO, Hello.newBuilder().setVmName("a").setVcpus(2).build());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(3 * 4096L);
            for (long i = 0; i < src.byteSize(); i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            }
            RamBatch batch = RamBatch.newBuilder().setBlock(0).addNormal(5).addNormal(6).addNormal(9).addZero(1).build();
            // pages 5 and 6 as one run, page 9 alone
            ByteBuffer[] pages = {src.asSlice(0, 8192).asByteBuffer(), src.asSlice(8192, 4096).asByteBuffer()};
            w.writePages(batch, pages, 2);
            w.flush();
            assertEquals(sink.bytes.size(), w.bytesWritten());

            FrameReader r = reader(sink.bytes.toByteArray());
            assertEquals(StreamHeader.VERSION, r.readStreamHeader());
            Frame f = r.next();
            assertEquals(FrameType.HELLO, f.type());
            assertEquals("a", r.readMessage(f, Hello.parser()).getVmName());
            f = r.next();
            RamBatch got = r.readBatchHeader(f);
            assertEquals(batch, got);
            MemorySegment dst = arena.allocate(3 * 4096L);
            for (int i = 0; i < 3; i++) {
                r.readPage(dst.asSlice(i * 4096L, 4096));
            }
            assertEquals(-1, dst.mismatch(src));
            assertThrows(EOFException.class, r::next);
        }
    }

    @Test
    void garbageIsRefusedWithAClearError() {
        byte[] garbage = new byte[4096];
        new Random(1).nextBytes(garbage);
        WireException e = assertThrows(WireException.class, () -> reader(garbage).readStreamHeader());
        assertTrue(e.getMessage().contains("not a Godwit migration stream"), e.getMessage());
    }

    @Test
    void anUnknownVersionOrFlagIsRefused() {
        byte[] v9 = ByteBuffer.allocate(12).putInt(StreamHeader.MAGIC).putInt(9).putInt(0).array();
        assertTrue(assertThrows(WireException.class, () -> reader(v9).readStreamHeader()).getMessage()
                .contains("version 9"));
        byte[] flags = ByteBuffer.allocate(12).putInt(StreamHeader.MAGIC).putInt(1).putInt(4).array();
        assertThrows(WireException.class, () -> reader(flags).readStreamHeader());
    }

    private static byte[] header(int type, int length) {
        return ByteBuffer.allocate(17).putInt(StreamHeader.MAGIC).putInt(1).putInt(0).put((byte) type)
                .putInt(length).array();
    }

    @Test
    void framesLongerThanTheirTypeAllowsAreRefusedBeforeAnyAllocation() throws IOException {
        FrameReader r = reader(header(FrameType.HELLO.code(), Integer.MAX_VALUE));
        r.readStreamHeader();
        WireException e = assertThrows(WireException.class, r::next);
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
        FrameReader neg = reader(header(FrameType.COMMAND.code(), -5));
        neg.readStreamHeader();
        assertThrows(WireException.class, neg::next);
        FrameReader unknown = reader(header(99, 0));
        unknown.readStreamHeader();
        assertTrue(assertThrows(WireException.class, unknown::next).getMessage().contains("unknown frame type 99"));
    }

    @Test
    void aBatchWhosePageBytesDoNotMatchItsHeaderIsRefused() throws IOException {
        byte[] hdr = RamBatch.newBuilder().addNormal(1).addNormal(2).build().toByteArray();
        ByteBuffer b = ByteBuffer.allocate(17 + 1 + hdr.length + 4096);
        b.putInt(StreamHeader.MAGIC).putInt(1).putInt(0).put((byte) FrameType.RAM_PAGES.code())
                .putInt(1 + hdr.length + 4096).put((byte) hdr.length).put(hdr).put(new byte[4096]);
        FrameReader r = reader(b.array());
        r.readStreamHeader();
        Frame f = r.next();
        WireException e = assertThrows(WireException.class, () -> r.readBatchHeader(f));
        assertTrue(e.getMessage().contains("lists 2 pages but carries 4096 bytes"), e.getMessage());
    }

    /** A remote batch (pages written into the destination's memory) carries indices and no page bytes. */
    @Test
    void aRemoteBatchCarriesNoPageBytesAndHasItsOwnLimit() throws IOException {
        Sink sink = new Sink();
        FrameWriter w = new FrameWriter(sink);
        w.writeStreamHeader();
        RamBatch.Builder big = RamBatch.newBuilder().setRemote(true);
        for (int i = 0; i < WireLimits.MAX_BATCH_REMOTE; i++) {
            big.addNormal(i);
        }
        w.writePages(big.build(), new ByteBuffer[0], 0);
        assertThrows(IllegalArgumentException.class, () -> w.writePages(RamBatch.newBuilder().setRemote(true)
                .addNormal(1).build(), new ByteBuffer[] {ByteBuffer.allocate(4096)}, 1), "a remote batch with bytes");
        big.addNormal(WireLimits.MAX_BATCH_REMOTE);
        w.writePages(big.build(), new ByteBuffer[0], 0); // the writer does not judge counts; the reader does
        w.flush();
        FrameReader r = reader(sink.bytes.toByteArray());
        r.readStreamHeader();
        assertEquals(WireLimits.MAX_BATCH_REMOTE, r.readBatchHeader(r.next()).getNormalCount());
        Frame tooBig = r.next();
        WireException e = assertThrows(WireException.class, () -> r.readBatchHeader(tooBig));
        assertTrue(e.getMessage().contains("exceeds the limits"), e.getMessage());
    }

    @Test
    void aNonRemoteBatchMayNotListMoreThanItsPageLimit() throws IOException {
        RamBatch.Builder b = RamBatch.newBuilder();
        for (int i = 0; i <= WireLimits.MAX_BATCH_NORMAL; i++) {
            b.addNormal(i);
        }
        byte[] hdr = b.build().toByteArray();
        ByteBuffer buf = ByteBuffer.allocate(12 + 5 + 2 + hdr.length);
        buf.putInt(StreamHeader.MAGIC).putInt(1).putInt(0).put((byte) FrameType.RAM_PAGES.code())
                .putInt(2 + hdr.length).put((byte) (0x80 | (hdr.length & 0x7f))).put((byte) (hdr.length >>> 7)).put(hdr);
        FrameReader r = reader(buf.array());
        r.readStreamHeader();
        Frame f = r.next();
        assertThrows(WireException.class, () -> r.readBatchHeader(f), "257 normal pages without remote");
    }

    @Test
    void aTruncatedStreamIsAnEndOfStreamNotAHang() throws IOException {
        FrameReader r = reader(header(FrameType.HELLO.code(), 100));
        r.readStreamHeader();
        Frame f = r.next();
        assertThrows(EOFException.class, () -> r.readMessage(f, Hello.parser()));
    }

    @Test
    void aProtobufThatDoesNotParseIsAWireException() throws IOException {
        byte[] h = header(FrameType.HELLO.code(), 3);
        byte[] s = ByteBuffer.allocate(h.length + 3).put(h).put(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}).array();
        FrameReader r = reader(s);
        r.readStreamHeader();
        Frame f = r.next();
        assertThrows(WireException.class, () -> r.readMessage(f, Hello.parser()));
    }

    /** A batch header length that is not a varint within its frame: a wire error saying so. */
    @Test
    void aBatchHeaderLengthThatIsNotAVarintIsAWireException() throws IOException {
        for (byte[] payload : new byte[][] {{(byte) 0x80, (byte) 0x80}, {(byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, 0}}) {
            byte[] h = header(FrameType.RAM_PAGES.code(), payload.length);
            byte[] s = ByteBuffer.allocate(h.length + payload.length).put(h).put(payload).array();
            FrameReader r = reader(s);
            r.readStreamHeader();
            Frame f = r.next();
            WireException e = assertThrows(WireException.class, () -> r.readBatchHeader(f));
            assertTrue(e.getMessage().contains("not a varint"), e.getMessage());
        }
    }

    /**
     * Boundary values in the two lengths the reader itself reads, the frame length (a big-endian
     * int) of every type and a RAM batch's header length (a varint, minimal or overlong): a frame is
     * read, or refused with a WireException or an end of stream; nothing else escapes.
     */
    @Test
    void boundaryLengthsAreRefusedAsWireErrors() throws IOException {
        long[] values = {0, 1, -1, Integer.MAX_VALUE, 1L << 31, (1L << 32) - 1, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE};
        for (FrameType type : FrameType.values()) {
            for (long v : values) {
                FrameReader r = reader(ByteBuffer.allocate(17 + 64).put(header(type.code(), (int) v)).array());
                r.readStreamHeader();
                try {
                    Frame f = r.next();
                    r.skipPayload();
                    assertTrue(f.length() <= type.maxLength(), type + " " + v);
                } catch (WireException | EOFException e) {
                    // refused, or the stream ended inside the frame
                }
            }
        }
        for (long v : values) {
            for (boolean overlong : new boolean[] {false, true}) {
                ByteArrayOutputStream varint = new ByteArrayOutputStream();
                long x = v;
                for (int i = 0; ; i++) {
                    boolean more = (x & ~0x7fL) != 0 || overlong && i < 9;
                    varint.write((int) (x & 0x7f) | (more ? 0x80 : 0));
                    x >>>= 7;
                    if (!more) {
                        break;
                    }
                }
                byte[] payload = java.util.Arrays.copyOf(varint.toByteArray(), varint.size() + 8);
                byte[] h = header(FrameType.RAM_PAGES.code(), payload.length);
                FrameReader r = reader(ByteBuffer.allocate(h.length + payload.length).put(h).put(payload).array());
                r.readStreamHeader();
                Frame f = r.next();
                assertThrows(WireException.class, () -> r.readBatchHeader(f), v + (overlong ? " overlong" : ""));
            }
        }
    }
}
