package io.godwit.transport.file.internal;

import java.nio.file.Path;

/**
 * A {@code file:} address, QEMU's {@code PATH[,offset=N]}: the migration's part of the file starts
 * {@code offset} bytes in (decimal, or hex with 0x), and what lies before it is left as it is.
 */
record FileAddress(Path path, long offset) {

    private static final String OFFSET = ",offset=";

    static FileAddress parse(String address) {
        if (address.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("file path contains a NUL byte");
        }
        String path = address;
        long offset = 0;
        int comma = address.lastIndexOf(OFFSET);
        if (comma >= 0) {
            path = address.substring(0, comma);
            offset = number(address.substring(comma + OFFSET.length()));
        }
        if (path.isEmpty()) {
            throw new IllegalArgumentException("file needs a path, as in file:vm.img or file:vm.img,offset=4096");
        }
        return new FileAddress(Path.of(path), offset);
    }

    private static long number(String text) {
        try {
            long n = text.startsWith("0x") || text.startsWith("0X")
                    ? Long.parseUnsignedLong(text.substring(2), 16) : Long.parseLong(text);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("file offset must be a number of bytes (decimal or 0x hex), not '"
                    + text + "'");
        }
    }

    @Override
    public String toString() {
        return "file:" + path + (offset != 0 ? OFFSET + offset : "");
    }
}
