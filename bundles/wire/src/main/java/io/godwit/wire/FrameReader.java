package io.godwit.wire;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import io.godwit.wire.proto.RamBatch;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads frames from a peer that is not trusted: every length is checked against the frame type's
 * limit before anything is read or allocated, and page bytes go straight into guest memory.
 *
 * <p>Used by one thread at a time.
 */
public final class FrameReader {

    private final ReadableByteChannel channel;
    private final ByteBuffer buf;
    private volatile long read;
    private int payloadLeft;

    public FrameReader(ReadableByteChannel channel) {
        this(channel, 1 << 20);
    }

    public FrameReader(ReadableByteChannel channel, int bufferSize) {
        this.channel = channel;
        this.buf = ByteBuffer.allocateDirect(Math.max(bufferSize, 64 << 10)).limit(0);
    }

    /** Bytes read from the channel so far, including those still waiting in the buffer. */
    public long bytesRead() {
        return read;
    }

    /**
     * Bytes handed to the caller so far: those read from the channel less those still waiting in the
     * buffer. Between frames, the end of the last frame read; the frames after it may be buffered
     * already, and a destination that acknowledges must not count them (it has not applied them).
     */
    public long bytesConsumed() {
        return read - buf.remaining();
    }

    /** Reads and checks the stream header; returns the stream version. */
    public int readStreamHeader() throws IOException {
        fill(StreamHeader.LENGTH);
        return StreamHeader.check(buf);
    }

    /**
     * The next frame header. The previous frame's payload must have been read whole.
     *
     * @throws EOFException when the stream ends between frames
     */
    public Frame next() throws IOException {
        if (payloadLeft != 0) {
            throw new IllegalStateException(payloadLeft + " payload bytes of the previous frame are unread");
        }
        fill(5);
        FrameType type = FrameType.of(Byte.toUnsignedInt(buf.get()));
        int length = buf.getInt();
        if (length < 0 || length > type.maxLength()) {
            throw new WireException(type + " frame length " + Integer.toUnsignedString(length)
                    + " is outside 0.." + type.maxLength());
        }
        payloadLeft = length;
        return new Frame(type, length);
    }

    /** Reads a whole protobuf frame payload. */
    public <T> T readMessage(Frame frame, Parser<T> parser) throws IOException {
        int len = frame.length();
        ByteBuffer payload;
        if (len <= buf.capacity()) {
            fill(len);
            payload = buf.slice(buf.position(), len);
            buf.position(buf.position() + len);
        } else {
            payload = ByteBuffer.allocate(len);
            copyInto(payload);
            payload.flip();
        }
        payloadLeft -= len;
        try {
            return parser.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new WireException(frame.type() + " frame does not parse: " + e.getMessage());
        }
    }

    /**
     * Reads a RAM frame's batch header and checks its counts and that the page bytes announced by the
     * frame are exactly those of its normal pages (none for a remote batch, whose pages were written
     * into guest memory by the source). The page bytes follow; read them with {@link #readPage}.
     */
    public RamBatch readBatchHeader(Frame frame) throws IOException {
        return readBatchHeader(frame, false);
    }

    /**
     * As {@link #readBatchHeader(Frame)}; with {@code compressedAllowed} (a multifd channel) a batch
     * may also carry its normal pages compressed ({@code codec} set): then the frame's remaining
     * bytes, fewer than the pages' own, are read with {@link #readPayload}.
     */
    public RamBatch readBatchHeader(Frame frame, boolean compressedAllowed) throws IOException {
        fill(Math.min(5, frame.length()));
        CodedInputStream in = CodedInputStream.newInstance(buf.slice(buf.position(), Math.min(5, frame.length())));
        int hlen;
        try {
            hlen = in.readUInt32();
        } catch (InvalidProtocolBufferException e) {
            throw new WireException("RAM batch header length is not a varint within its " + frame.length()
                    + "-byte frame");
        }
        int varint = in.getTotalBytesRead();
        if (hlen < 0 || hlen > WireLimits.MAX_BATCH_HEADER || varint + (long) hlen > frame.length()) {
            throw new WireException("RAM batch header length " + hlen + " does not fit its frame");
        }
        buf.position(buf.position() + varint);
        payloadLeft -= varint;
        RamBatch batch = readMessage(new Frame(FrameType.RAM_PAGES, hlen), RamBatch.parser());
        int maxNormal = batch.getRemote() ? WireLimits.MAX_BATCH_REMOTE : WireLimits.MAX_BATCH_NORMAL;
        if (batch.getNormalCount() + batch.getXbzrleCount() > maxNormal
                || batch.getZeroCount() > WireLimits.MAX_BATCH_ZERO) {
            throw new WireException("RAM batch of " + batch.getNormalCount() + " normal, " + batch.getXbzrleCount()
                    + " delta and " + batch.getZeroCount() + " zero pages exceeds the limits");
        }
        long pageBytes = batch.getRemote() ? 0 : (long) batch.getNormalCount() * WireLimits.PAGE_SIZE;
        pageBytes += deltaBytes(batch);
        if ((batch.getCodec() != 0) != (frame.type() == FrameType.MULTIFD_PAGES)) {
            throw new WireException(frame.type() + " frame with a batch of codec " + batch.getCodec());
        }
        if (batch.getCodec() != 0) {
            if (!compressedAllowed || batch.getRemote()) {
                throw new WireException("a compressed RAM batch outside a multifd channel");
            }
            if (payloadLeft <= 0 || payloadLeft >= pageBytes) {
                throw new WireException("a compressed RAM batch of " + batch.getNormalCount() + " pages carries "
                        + payloadLeft + " bytes");
            }
            return batch;
        }
        if (pageBytes != payloadLeft) {
            throw new WireException("RAM batch lists " + batch.getNormalCount() + " pages but carries "
                    + payloadLeft + " bytes");
        }
        return batch;
    }

    /**
     * The bytes of a batch's XBZRLE deltas: one length per delta, each 1 to a page (a longer encoding is
     * sent as the page itself); none in a remote batch.
     */
    private static long deltaBytes(RamBatch batch) throws WireException {
        if (batch.getXbzrleCount() != batch.getXbzrleLengthCount() || batch.getRemote() && batch.getXbzrleCount() > 0) {
            throw new WireException("RAM batch lists " + batch.getXbzrleCount() + " delta pages with "
                    + batch.getXbzrleLengthCount() + " lengths" + (batch.getRemote() ? " in a remote batch" : ""));
        }
        long bytes = 0;
        for (int len : batch.getXbzrleLengthList()) {
            if (len < 1 || len > WireLimits.PAGE_SIZE) {
                throw new WireException("RAM batch has a delta of " + Integer.toUnsignedString(len)
                        + " bytes (1.." + WireLimits.PAGE_SIZE + ")");
            }
            bytes += len;
        }
        return bytes;
    }

    /** Reads the next {@code dst.remaining()} bytes of the current RAM frame (a delta) into {@code dst}. */
    public void readBytes(ByteBuffer dst) throws IOException {
        if (payloadLeft < dst.remaining()) {
            throw new IllegalStateException("no " + dst.remaining() + " bytes left in this frame");
        }
        int n = dst.remaining();
        copyInto(dst);
        payloadLeft -= n;
    }

    /** Reads the next page of the current RAM frame into {@code page} (4096 bytes of guest memory). */
    public void readPage(MemorySegment page) throws IOException {
        readPages(page);
    }

    /**
     * Reads the next {@code run.byteSize() / 4096} pages of the current RAM frame into {@code run}, a
     * slice of guest memory: what is buffered is copied, the rest is read from the channel straight
     * into guest memory.
     */
    public void readPages(MemorySegment run) throws IOException {
        long n = run.byteSize();
        if (n == 0 || n % WireLimits.PAGE_SIZE != 0 || payloadLeft < n) {
            throw new IllegalStateException("no " + n + " bytes of pages left in this frame");
        }
        copyInto(run.asByteBuffer());
        payloadLeft -= (int) n;
    }

    /** The bytes of the current frame's payload still unread. */
    public int payloadLeft() {
        return payloadLeft;
    }

    /** Reads {@code dst.remaining()} bytes of the current frame's payload (a compressed batch's). */
    public void readPayload(ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        if (payloadLeft < n) {
            throw new IllegalStateException("no " + n + " payload bytes left in this frame");
        }
        copyInto(dst);
        payloadLeft -= n;
    }

    /** Skips the rest of the current frame's payload. */
    public void skipPayload() throws IOException {
        while (payloadLeft > 0) {
            if (!buf.hasRemaining()) {
                refill();
            }
            int n = Math.min(payloadLeft, buf.remaining());
            buf.position(buf.position() + n);
            payloadLeft -= n;
        }
    }

    /** Copies dst.remaining() bytes: what is buffered first, then straight from the channel. */
    private void copyInto(ByteBuffer dst) throws IOException {
        int n = Math.min(buf.remaining(), dst.remaining());
        if (n > 0) {
            dst.put(buf.slice(buf.position(), n));
            buf.position(buf.position() + n);
        }
        while (dst.hasRemaining()) {
            int r = channel.read(dst);
            if (r < 0) {
                throw new EOFException("the stream ended inside a frame after " + read + " bytes");
            }
            read += r;
        }
    }

    /** Makes at least {@code n} bytes available in the buffer. */
    private void fill(int n) throws IOException {
        if (buf.remaining() >= n) {
            return;
        }
        buf.compact();
        try {
            while (buf.position() < n) {
                int r = channel.read(buf);
                if (r < 0) {
                    throw new EOFException(buf.position() == 0 && payloadLeft == 0
                            ? "the stream ended after " + read + " bytes"
                            : "the stream ended inside a frame after " + read + " bytes");
                }
                read += r;
            }
        } finally {
            buf.flip();
        }
    }

    private void refill() throws IOException {
        fill(1);
    }
}
