package io.godwit.api.transport;

/** What a transport can do beyond one byte stream each way. */
public enum TransportCapability {
    /** Several channels between the same two hosts (multifd). */
    MULTI_CHANNEL,
    /** A stream that can be read back at an offset (a file: mapped-ram). */
    SEEKABLE,
    /** Writes into the destination's memory without its CPU (RDMA). */
    REMOTE_MEMORY_WRITE,
    /** A channel back from the destination to the source (the return path). */
    BIDIRECTIONAL
}
