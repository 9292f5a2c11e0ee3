package io.godwit.wire;

/** The fixed limits a destination holds a peer to; nothing it allocates is sized by the peer beyond these. */
public final class WireLimits {

    /** Bytes of a target page. */
    public static final int PAGE_SIZE = 4096;

    /** Normal pages in one RAM batch (1 MiB of page bytes). */
    public static final int MAX_BATCH_NORMAL = 256;

    /**
     * Normal pages in one remote RAM batch (16 MiB written into the destination's memory): its frame
     * carries indices only, so a batch may list more pages and the stream carries fewer headers.
     */
    public static final int MAX_BATCH_REMOTE = 4096;

    /** Zero pages in one RAM batch. */
    public static final int MAX_BATCH_ZERO = 16384;

    /** The protobuf header of a RAM batch. */
    public static final int MAX_BATCH_HEADER = 256 << 10;

    /** A whole RAM frame: header and page bytes. */
    public static final int MAX_RAM_FRAME = 5 + MAX_BATCH_HEADER + MAX_BATCH_NORMAL * PAGE_SIZE;

    /** One vCPU's or device's state. */
    public static final int MAX_STATE_BYTES = 16 << 20;

    /** RAM blocks in one VM. */
    public static final int MAX_BLOCKS = 64;

    private WireLimits() {}
}
