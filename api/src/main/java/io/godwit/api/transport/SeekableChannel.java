package io.godwit.api.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The channel of a transport that declares {@link TransportCapability#SEEKABLE}: a file. Besides the
 * byte stream (written or read at the channel's position, as any {@link MigrationChannel}), it reads
 * and writes at fixed offsets, so that {@code mapped-ram} puts every page at its own place and a
 * page written again in a later pass overwrites the earlier copy instead of growing the file.
 *
 * <p>Offsets count from the start of the migration's part of the file (after {@code offset=N} of a
 * {@code file:} URI): the transport adds its own offset. {@link #writeAt} and {@link #readAt} do not
 * move the stream position and are safe to call from several threads at once (pwrite(2), pread(2)),
 * so that parallel channel threads may write their pages side by side. {@link #close} may come from
 * any thread.
 */
@ConsumerType
public interface SeekableChannel extends MigrationChannel {

    /** Writes all of {@code src} at {@code offset}; the stream position does not move. */
    void writeAt(ByteBuffer src, long offset) throws IOException;

    /**
     * Reads {@code dst.remaining()} bytes at {@code offset}; the stream position does not move.
     *
     * @throws java.io.EOFException when the file ends before
     */
    void readAt(ByteBuffer dst, long offset) throws IOException;

    /** The stream position: where the next {@link #write} goes or the next {@link #read} comes from. */
    long position() throws IOException;

    /** Moves the stream position (the source skips the region its pages are written to). */
    void position(long offset) throws IOException;

    /** The size of the migration's part of the file. */
    long size() throws IOException;
}
