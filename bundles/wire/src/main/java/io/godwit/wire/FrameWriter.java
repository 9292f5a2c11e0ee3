package io.godwit.wire;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import io.godwit.wire.proto.RamBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/**
 * Writes frames. Small frames collect in a staging buffer; a RAM batch goes out as one gathering
 * write of the staged bytes plus the page buffers, which are slices of guest memory, so page bytes
 * are never copied in user space.
 *
 * <p>Used by one thread at a time.
 */
public final class FrameWriter {

    private static final int STAGING = 512 << 10;

    private final GatheringByteChannel channel;
    private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING);
    private final ByteBuffer[] gather = new ByteBuffer[1 + WireLimits.MAX_BATCH_NORMAL];
    private volatile long written;

    public FrameWriter(GatheringByteChannel channel) {
        this.channel = channel;
    }

    /** Bytes handed to the channel so far (written, or staged and flushed). */
    public long bytesWritten() {
        return written;
    }

    /** Bytes staged but not yet handed to the channel. */
    public int staged() {
        return staging.position();
    }

    public void writeStreamHeader() throws IOException {
        room(StreamHeader.LENGTH);
        StreamHeader.write(staging);
    }

    /** Stages one protobuf frame; it goes out with the next flush or batch. */
    public void writeMessage(FrameType type, MessageLite message) throws IOException {
        int len = message.getSerializedSize();
        if (len > type.maxLength()) {
            throw new WireException(type + " frame of " + len + " bytes exceeds " + type.maxLength());
        }
        if (5 + len > STAGING) {
            flush();
            ByteBuffer big = ByteBuffer.allocate(5 + len);
            big.put((byte) type.code()).putInt(len).put(message.toByteArray()).flip();
            drain(new ByteBuffer[] {big}, 1);
            return;
        }
        room(5 + len);
        staging.put((byte) type.code()).putInt(len);
        CodedOutputStream out = CodedOutputStream.newInstance(staging);
        message.writeTo(out);
        out.flush();
    }

    /**
     * Writes a RAM batch: the header, then {@code count} page buffers (each one or more whole pages,
     * in the order the header lists the normal pages, then the XBZRLE deltas), in one gathering write. A {@code remote} batch
     * carries no page bytes: its pages were written into the destination's memory already.
     */
    public void writePages(RamBatch header, ByteBuffer[] pages, int count) throws IOException {
        long pageBytes = 0;
        for (int i = 0; i < count; i++) {
            pageBytes += pages[i].remaining();
        }
        long expected = header.getRemote() ? 0 : (long) header.getNormalCount() * WireLimits.PAGE_SIZE;
        for (int len : header.getXbzrleLengthList()) {
            expected += len; // the deltas follow the normal pages
        }
        if (pageBytes != expected || count > WireLimits.MAX_BATCH_NORMAL) {
            throw new IllegalArgumentException("page buffers do not match the batch header");
        }
        stageBatchHeader(FrameType.RAM_PAGES, header, pageBytes);
        System.arraycopy(pages, 0, gather, 1, count);
        drain(gather, count + 1);
        java.util.Arrays.fill(gather, 1, count + 1, null); // do not keep guest memory slices alive
        staging.clear();
    }

    /**
     * Writes a compressed RAM batch (multifd), a MULTIFD_PAGES frame: the header, whose {@code codec} is set, then the
     * compressed bytes of its normal pages, {@code compressed.remaining()} of them.
     */
    public void writeCompressedPages(RamBatch header, ByteBuffer compressed) throws IOException {
        long pageBytes = (long) header.getNormalCount() * WireLimits.PAGE_SIZE;
        if (header.getCodec() == 0 || compressed.remaining() == 0 || compressed.remaining() >= pageBytes) {
            throw new IllegalArgumentException("a compressed batch must be smaller than its pages");
        }
        stageBatchHeader(FrameType.MULTIFD_PAGES, header, compressed.remaining());
        gather[1] = compressed;
        drain(gather, 2);
        gather[1] = null;
        staging.clear();
    }

    /** Stages a RAM frame's header for {@code payloadBytes} after it and flips the staging buffer into gather[0]. */
    private void stageBatchHeader(FrameType type, RamBatch header, long payloadBytes) throws IOException {
        int hlen = header.getSerializedSize();
        int frameLen = CodedOutputStream.computeUInt32SizeNoTag(hlen) + hlen + (int) payloadBytes;
        room(5 + 5 + hlen);
        staging.put((byte) type.code()).putInt(frameLen);
        CodedOutputStream out = CodedOutputStream.newInstance(staging);
        out.writeUInt32NoTag(hlen);
        header.writeTo(out);
        out.flush();
        staging.flip();
        gather[0] = staging;
    }

    /** Hands every staged byte to the channel. */
    public void flush() throws IOException {
        if (staging.position() == 0) {
            return;
        }
        staging.flip();
        gather[0] = staging;
        drain(gather, 1);
        staging.clear();
    }

    private void room(int bytes) throws IOException {
        if (staging.remaining() < bytes) {
            flush();
        }
    }

    private void drain(ByteBuffer[] buffers, int count) throws IOException {
        int first = 0;
        while (first < count) {
            long n = channel.write(buffers, first, count - first);
            written += n;
            while (first < count && !buffers[first].hasRemaining()) {
                first++;
            }
        }
    }
}
