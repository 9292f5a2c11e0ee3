package io.godwit.wire;

import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link StateInput} over bytes from a {@link StateEncoder} on another host. Every read checks its
 * tag and its bounds. {@link #finish} checks that the reader consumed every field and asked for every
 * subsection the writer sent: an unknown subsection fails the load, as in QEMU.
 */
public final class StateDecoder implements StateInput {

    private static final int MAX_SUBSECTIONS = 64;
    private static final int MAX_NAME = 256;

    private final String owner;
    private final ByteBuffer fields;
    private final Map<String, ByteBuffer> subsections = new HashMap<>();
    private final Set<String> asked = new HashSet<>();
    private final java.util.List<StateDecoder> children = new java.util.ArrayList<>();

    /**
     * @param owner names the CPU or device in error messages
     * @throws StateFormatException when the layout itself is broken
     */
    public StateDecoder(String owner, byte[] data) {
        this.owner = owner;
        ByteBuffer all = ByteBuffer.wrap(data);
        this.fields = all.duplicate();
        try {
            skipFields(all);
            int end = all.position();
            all.get(); // END_OF_FIELDS
            fields.limit(end);
            int n = all.getInt();
            if (n < 0 || n > MAX_SUBSECTIONS) {
                throw fail("has a bad subsection count " + Integer.toUnsignedString(n));
            }
            for (int i = 0; i < n; i++) {
                String name = utf8(all, MAX_NAME);
                int len = all.getInt();
                if (len < 0 || len > all.remaining()) {
                    throw fail("subsection '" + name + "' is truncated");
                }
                subsections.put(name, all.slice(all.position(), len));
                all.position(all.position() + len);
            }
            if (all.hasRemaining()) {
                throw fail(all.remaining() + " bytes after the last subsection");
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw fail("is truncated");
        }
    }

    private void skipFields(ByteBuffer b) {
        while (true) {
            need(b, 1);
            int tag = b.get(b.position());
            int size = switch (tag) {
                case StateEncoder.END_OF_FIELDS -> 0;
                case StateEncoder.BOOLEAN -> 2;
                case StateEncoder.INT -> 5;
                case StateEncoder.LONG, StateEncoder.DOUBLE -> 9;
                case StateEncoder.BYTES, StateEncoder.STRING -> {
                    need(b, 5);
                    int len = b.getInt(b.position() + 1);
                    // Compared with what is left, not added to the tag's 5 bytes: near 2^31 the sum
                    // would overflow to a negative size that passes every check.
                    if (len < 0 || len > b.remaining() - 5) {
                        throw fail("has a field of " + Integer.toUnsignedString(len) + " bytes where "
                                + (b.remaining() - 5) + " are left");
                    }
                    yield 5 + len;
                }
                default -> throw fail("has an unknown field tag " + tag);
            };
            if (size == 0) {
                return;
            }
            need(b, size);
            b.position(b.position() + size);
        }
    }

    private void need(ByteBuffer b, int bytes) {
        if (b.remaining() < bytes) {
            throw fail("is truncated");
        }
    }

    private StateFormatException fail(String what) {
        return new StateFormatException(owner + ": state " + what);
    }

    private void expect(int tag, String type) {
        if (!fields.hasRemaining()) {
            throw fail("ends before a " + type + " field");
        }
        int t = fields.get(fields.position());
        if (t != tag) {
            throw fail("has a field of tag " + t + " where a " + type + " was expected");
        }
        fields.get();
    }

    @Override
    public boolean readBoolean() {
        expect(StateEncoder.BOOLEAN, "boolean");
        return fields.get() != 0;
    }

    @Override
    public int readInt() {
        expect(StateEncoder.INT, "int");
        return fields.getInt();
    }

    @Override
    public long readLong() {
        expect(StateEncoder.LONG, "long");
        return fields.getLong();
    }

    @Override
    public double readDouble() {
        expect(StateEncoder.DOUBLE, "double");
        return fields.getDouble();
    }

    @Override
    public byte[] readBytes(int maxLength) {
        expect(StateEncoder.BYTES, "bytes");
        int len = fields.getInt();
        if (len < 0 || len > maxLength) {
            throw fail("has a byte field of " + Integer.toUnsignedString(len) + " bytes, more than " + maxLength);
        }
        byte[] out = new byte[len];
        fields.get(out);
        return out;
    }

    @Override
    public String readString(int maxLength) {
        expect(StateEncoder.STRING, "string");
        return utf8(fields, maxLength);
    }

    private String utf8(ByteBuffer b, int maxLength) {
        int len = b.getInt();
        if (len < 0 || len > maxLength) {
            throw fail("has a string of " + Integer.toUnsignedString(len) + " bytes, more than " + maxLength);
        }
        if (len > b.remaining()) {
            throw fail("has a string of " + len + " bytes where " + b.remaining() + " are left");
        }
        ByteBuffer s = b.slice(b.position(), len);
        b.position(b.position() + len);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(s).toString();
        } catch (CharacterCodingException e) {
            throw fail("has a string that is not UTF-8");
        }
    }

    @Override
    public Optional<StateInput> subsection(String name) {
        asked.add(name);
        ByteBuffer b = subsections.get(name);
        if (b == null) {
            return Optional.empty();
        }
        byte[] data = new byte[b.remaining()];
        b.duplicate().get(data);
        StateDecoder child = new StateDecoder(owner + "/" + name, data);
        children.add(child);
        return Optional.of(child);
    }

    /** Checks that every field was read and every subsection was known to the reader. */
    public void finish() {
        if (fields.hasRemaining()) {
            throw fail("has " + fields.remaining() + " bytes of fields the loader did not read");
        }
        for (String name : subsections.keySet()) {
            if (!asked.contains(name)) {
                throw fail("has an unknown subsection '" + name + "'");
            }
        }
        children.forEach(StateDecoder::finish);
    }
}
