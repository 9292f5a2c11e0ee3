package io.godwit.api.state;

/** State that cannot be loaded: truncated, of an unknown version, or with a field out of range. */
public class StateFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StateFormatException(String message) {
        super(message);
    }
}
