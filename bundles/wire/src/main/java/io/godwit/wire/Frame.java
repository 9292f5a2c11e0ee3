package io.godwit.wire;

/** A frame's type and payload length, read and checked; its payload is next on the stream. */
public record Frame(FrameType type, int length) {}
