package io.godwit.coordinator.internal;

/** A migration URI, {@code scheme:address} (QEMU's form, for example {@code tcp:127.0.0.1:4444}). */
record Uri(String scheme, String address) {

    static Uri parse(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("bad migration URI '" + text + "': use SCHEME:ADDRESS, for example "
                    + "tcp:127.0.0.1:4444 or unix:/tmp/mig.sock");
        }
        return new Uri(text.substring(0, colon), text.substring(colon + 1));
    }
}
