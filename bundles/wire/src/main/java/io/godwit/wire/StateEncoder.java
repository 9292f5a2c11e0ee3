package io.godwit.wire;

import io.godwit.api.state.StateOutput;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@link StateOutput} into bytes. Each field carries a one-byte type tag so a reader catches a
 * mistyped or missing field instead of misreading the bytes after it. Subsections go after the
 * fields, as a count and then name, length and bytes each.
 */
public final class StateEncoder implements StateOutput {

    static final int BOOLEAN = 1;
    static final int INT = 2;
    static final int LONG = 3;
    static final int DOUBLE = 4;
    static final int BYTES = 5;
    static final int STRING = 6;
    static final int END_OF_FIELDS = 0x7f;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);
    private final Map<String, byte[]> subsections = new LinkedHashMap<>();

    private void tag(int tag) {
        write(() -> out.writeByte(tag));
    }

    @Override
    public void writeBoolean(boolean value) {
        tag(BOOLEAN);
        write(() -> out.writeBoolean(value));
    }

    @Override
    public void writeInt(int value) {
        tag(INT);
        write(() -> out.writeInt(value));
    }

    @Override
    public void writeLong(long value) {
        tag(LONG);
        write(() -> out.writeLong(value));
    }

    @Override
    public void writeDouble(double value) {
        tag(DOUBLE);
        write(() -> out.writeDouble(value));
    }

    @Override
    public void writeBytes(byte[] value) {
        tag(BYTES);
        write(() -> {
            out.writeInt(value.length);
            out.write(value);
        });
    }

    @Override
    public void writeString(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        tag(STRING);
        write(() -> {
            out.writeInt(utf8.length);
            out.write(utf8);
        });
    }

    @Override
    public void subsection(String name, Consumer<StateOutput> body) {
        if (subsections.containsKey(name)) {
            throw new IllegalArgumentException("subsection '" + name + "' written twice");
        }
        StateEncoder sub = new StateEncoder();
        body.accept(sub);
        subsections.put(name, sub.toByteArray());
    }

    /** The encoded state: fields, an end tag, then the subsections. */
    public byte[] toByteArray() {
        ByteArrayOutputStream all = new ByteArrayOutputStream(bytes.size() + 64);
        DataOutputStream o = new DataOutputStream(all);
        try {
            o.write(bytes.toByteArray());
            o.writeByte(END_OF_FIELDS);
            o.writeInt(subsections.size());
            for (Map.Entry<String, byte[]> e : subsections.entrySet()) {
                byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
                o.writeInt(name.length);
                o.write(name);
                o.writeInt(e.getValue().length);
                o.write(e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all.toByteArray();
    }

    private interface Io {
        void run() throws IOException;
    }

    private static void write(Io io) {
        try {
            io.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }
}
