package io.godwit.wire;

import java.io.IOException;

/** The stream is not what the protocol allows: a bad header, frame, length, count or offset. */
public class WireException extends IOException {

    private static final long serialVersionUID = 1L;

    public WireException(String message) {
        super(message);
    }
}
