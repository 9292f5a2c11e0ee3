package io.godwit.api.transport;

import io.godwit.api.memory.RamBlock;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The channel of a transport that declares {@link TransportCapability#REMOTE_MEMORY_WRITE}: besides
 * the byte stream, the source writes pages straight into the destination's guest RAM, as RDMA verbs
 * do, and the destination's CPU copies nothing.
 *
 * <ul>
 *   <li>The destination registers each RAM block ({@link #register}, ibv_reg_mr: the memory is pinned
 *   and a key made) and sends the descriptors to the source in the migration stream.</li>
 *   <li>The source attaches each descriptor ({@link #attach}), posts one-sided writes ({@link #post},
 *   ibv_post_send of an RDMA WRITE) and polls their completions ({@link #poll}, ibv_poll_cq).</li>
 * </ul>
 * The byte stream still carries control, device and vCPU state and tells the destination which pages
 * were written: a write counts only once the source, after its completion, says so in the stream.
 *
 * <p>Writes complete in the order they were posted (one queue pair). When the channel closes, or a
 * write fails (bad key, out of bounds, the peer gone), the queue pair enters the error state: every
 * later {@link #post} and {@link #poll} throws. {@link #close} may come from any thread.
 */
@ConsumerType
public interface RemoteMemoryChannel extends MigrationChannel {

    /**
     * Destination: registers a block of guest RAM for writes by this channel's peer, pinning it, and
     * returns its descriptor (its key and length, what the peer needs to find it), opaque to the caller.
     * The registration ends
     * when the channel closes. Called on the incoming migration thread; may block while pinning.
     *
     * @throws IOException when the block cannot be registered, with a one-line reason (for example
     *     memory that another process cannot map)
     */
    byte[] register(RamBlock block) throws IOException;

    /**
     * Source: attaches a region the peer registered, so that writes can target it. The descriptor
     * comes from the peer: an implementation must not follow a path or address in it unchecked, and
     * attaches only memory that was registered for it.
     *
     * @param descriptor what the peer's {@link #register} returned
     * @return the region's handle for {@link #post}
     * @throws IOException when the descriptor is malformed or its key is not (or no longer) registered
     */
    int attach(byte[] descriptor) throws IOException;

    /** Source: the size in bytes of an attached region. */
    long regionSize(int region);

    /**
     * Source: queues a one-sided write of {@code src} to {@code offset} in {@code region}. Returns at
     * once unless the send queue is full, then waits for a free slot. {@code src} is read until the
     * write completes, so it must stay valid that long. Called on the outgoing migration thread.
     *
     * @return the write's id: 1 for the first write on this channel, one more for each later one
     * @throws IOException when the queue pair is in the error state or the write is out of bounds
     */
    long post(int region, long offset, MemorySegment src) throws IOException, InterruptedException;

    /**
     * Source: the id of the last completed write (0 before any), waiting up to {@code timeoutNanos}
     * for it to reach {@code wanted}. Completions come in posting order, so every write up to the
     * returned id has landed in the peer's memory.
     *
     * @throws IOException when the queue pair is in the error state
     */
    long poll(long wanted, long timeoutNanos) throws IOException, InterruptedException;
}
