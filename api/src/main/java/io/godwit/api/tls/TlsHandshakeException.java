package io.godwit.api.tls;

import java.io.IOException;

/** A TLS handshake that failed; the message says why in one line. */
public class TlsHandshakeException extends IOException {

    private static final long serialVersionUID = 1L;

    private final boolean plainPeer;

    public TlsHandshakeException(String message, boolean plainPeer, Throwable cause) {
        super(message, cause);
        this.plainPeer = plainPeer;
    }

    /** True when the peer sent something that is not TLS at all (a plain-text migration stream). */
    public boolean plainPeer() {
        return plainPeer;
    }
}
