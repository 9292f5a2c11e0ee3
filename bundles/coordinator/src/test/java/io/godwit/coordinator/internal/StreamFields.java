package io.godwit.coordinator.internal;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.godwit.wire.FrameType;
import io.godwit.wire.StreamHeader;
import io.godwit.wire.proto.Command;
import io.godwit.wire.proto.Complete;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.RamBatch;
import io.godwit.wire.proto.ReturnMessage;
import io.godwit.wire.proto.SectionEnd;
import io.godwit.wire.proto.SectionStart;
import io.godwit.wire.proto.StateSection;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A recorded migration stream as a tree of its fields, to set one length, count or index to a
 * boundary value: the frames' lengths, every protobuf varint and length-delimited field (a RAM
 * batch's block and page indices, a state section's instance and version, the hello's counts and
 * versions, nested messages), and inside each state section's data the state encoding's lengths,
 * subsection count and numeric fields. Written back either with every enclosing length made to fit
 * (so the value reaches the check that reads it) or with the other bytes as recorded.
 */
final class StreamFields {

    /** How a number is written: a protobuf varint or a big-endian int or long. */
    enum Encoding { VARINT, INT32, INT64 }

    /** 0, -1, 2^31-1, 2^31, 2^32-1, 2^32, 2^63-1, 2^63 and 2^64-1 (as unsigned 64-bit values), and 1. */
    static final long[] BOUNDARIES = {0, 1, -1, Integer.MAX_VALUE, 1L << 31, (1L << 32) - 1, 1L << 32,
        Long.MAX_VALUE, Long.MIN_VALUE};

    private abstract static class Node {
        abstract void write(ByteArrayOutputStream out, Change c);
    }

    /** Bytes as recorded. */
    private static final class Raw extends Node {
        final byte[] bytes;

        Raw(byte[] b, int from, int to) {
            bytes = java.util.Arrays.copyOfRange(b, from, to);
        }

        @Override
        void write(ByteArrayOutputStream out, Change c) {
            out.writeBytes(bytes);
        }
    }

    /** A number field, or the length prefix of a run of nodes; either is a site a change may hit. */
    private static final class Field extends Node {
        final String name;
        final Encoding encoding;
        final byte[] recorded;
        final List<Node> body; // null for a number
        final int site;
        /**
         * For a protobuf field the source left out (proto3 writes no default value: block 0, instance
         * 0): its key, written with the value only when a change hits it; packed as a list of one.
         */
        byte[] absentKey;
        boolean absentPacked;
        /**
         * The first site inside this one: sites are numbered after those of their body, so a change
         * outside [first, site] leaves these bytes as recorded.
         */
        final int first;
        /** Its bytes as recorded, prefix and body. */
        final byte[] bytes;

        Field(String name, Encoding encoding, byte[] recorded, List<Node> body, int site) {
            this.name = name;
            this.encoding = encoding;
            this.recorded = recorded;
            this.body = body;
            this.site = site;
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(recorded);
            int low = site;
            for (Node n : body == null ? List.<Node>of() : body) {
                if (n instanceof Field f) {
                    low = Math.min(low, f.first);
                    all.writeBytes(f.bytes);
                } else {
                    all.writeBytes(((Raw) n).bytes);
                }
            }
            this.first = low;
            this.bytes = all.toByteArray();
        }

        @Override
        void write(ByteArrayOutputStream out, Change c) {
            if (c.site < first || c.site > site) {
                out.writeBytes(bytes);
            } else if (absentKey != null) {
                out.writeBytes(absentKey);
                byte[] v = c.encoded(encoding);
                if (absentPacked) {
                    out.writeBytes(encode(Encoding.VARINT, v.length, false));
                }
                out.writeBytes(v);
            } else if (body == null) {
                out.writeBytes(c.encoded(encoding));
            } else {
                ByteArrayOutputStream inner = new ByteArrayOutputStream(bytes.length + 16);
                body.forEach(n -> n.write(inner, c));
                if (c.site == site) {
                    out.writeBytes(c.encoded(encoding));
                } else if (c.fitLengths) {
                    out.writeBytes(encode(encoding, inner.size(), false));
                } else {
                    out.writeBytes(recorded);
                }
                out.writeBytes(inner.toByteArray());
            }
        }
    }

    /** One value at one site; site -1 writes the stream as recorded. */
    private record Change(int site, long value, boolean overlong, boolean fitLengths) {
        byte[] encoded(Encoding e) {
            return encode(e, value, overlong);
        }
    }

    /** A site: its field's name without instance numbers (what a mutation picks first), and the node. */
    private record Site(String kind, Field field) {}

    private final List<Node> nodes = new ArrayList<>();
    private final List<Site> sites = new ArrayList<>();
    /** Sites by kind, so a kind with thousands of sites (zero-page indices) is not picked thousands of times as often. */
    private final Map<String, List<Integer>> kinds = new LinkedHashMap<>();

    private StreamFields() {}

    /** Parses a well-formed stream as a destination would read it. */
    static StreamFields parse(byte[] s) {
        StreamFields f = new StreamFields();
        f.nodes.add(new Raw(s, 0, StreamHeader.LENGTH));
        ByteBuffer b = ByteBuffer.wrap(s);
        int p = StreamHeader.LENGTH;
        int frame = 0;
        while (p < s.length) {
            FrameType type;
            try {
                type = FrameType.of(Byte.toUnsignedInt(s[p]));
            } catch (io.godwit.wire.WireException e) {
                throw new IllegalArgumentException("not a recorded stream: " + e.getMessage());
            }
            int len = b.getInt(p + 1);
            f.nodes.add(new Raw(s, p, p + 1));
            String name = type + "#" + frame++;
            f.nodes.add(f.field(name + " frame length", Encoding.INT32, s, p + 1, p + 5, f.payload(type, s, p + 5,
                    p + 5 + len, name)));
            p += 5 + len;
        }
        return f;
    }

    /** How many fields a change may hit. */
    int sites() {
        return sites.size();
    }

    /** The stream written back unchanged: a check that the parse saw every byte. */
    byte[] recorded() {
        return write(new Change(-1, 0, false, false));
    }

    /** A boundary value (or the recorded value off by one) in one field of a kind picked at random. */
    Mutated mutate(SplittableRandom r) {
        List<List<Integer>> byKind = new ArrayList<>(kinds.values());
        List<Integer> kind = byKind.get(r.nextInt(byKind.size()));
        int site = kind.get(r.nextInt(kind.size()));
        Field f = sites.get(site).field();
        long value;
        int pick = r.nextInt(BOUNDARIES.length + 2);
        if (pick < BOUNDARIES.length) {
            value = BOUNDARIES[pick];
        } else {
            value = recordedValue(f) + (pick == BOUNDARIES.length ? 1 : -1);
        }
        boolean overlong = f.encoding == Encoding.VARINT && r.nextInt(4) == 0;
        boolean fit = r.nextInt(4) != 0;
        byte[] bytes = write(new Change(site, value, overlong, fit));
        String what = f.name + " = " + Long.toUnsignedString(value) + (overlong ? " (overlong varint)" : "")
                + (fit ? "" : ", other lengths as recorded");
        return new Mutated(bytes, what);
    }

    record Mutated(byte[] bytes, String description) {}

    private byte[] write(Change c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        nodes.forEach(n -> n.write(out, c));
        return out.toByteArray();
    }

    private static long recordedValue(Field f) {
        byte[] b = f.recorded;
        return switch (f.encoding) {
            case INT32 -> Integer.toUnsignedLong(ByteBuffer.wrap(b).getInt());
            case INT64 -> ByteBuffer.wrap(b).getLong();
            case VARINT -> {
                long v = 0;
                for (int i = 0; i < b.length; i++) {
                    v |= (long) (b[i] & 0x7f) << (7 * i);
                }
                yield v;
            }
        };
    }

    private Field field(String name, Encoding e, byte[] s, int from, int to, List<Node> body) {
        Field f = new Field(name, e, java.util.Arrays.copyOfRange(s, from, to), body, sites.size());
        String kind = name.replaceAll("#\\d+|\\[\\d+\\]", "");
        kinds.computeIfAbsent(kind, k -> new ArrayList<>()).add(sites.size());
        sites.add(new Site(kind, f));
        return f;
    }

    private List<Node> payload(FrameType type, byte[] s, int from, int to, String name) {
        List<Node> out = new ArrayList<>();
        if (type == FrameType.RAM_PAGES || type == FrameType.MULTIFD_PAGES) {
            long[] v = varint(s, from);
            int hend = (int) (from + v[1] + v[0]);
            out.add(field(name + " RamBatch length", Encoding.VARINT, s, from, (int) (from + v[1]),
                    message(RamBatch.getDescriptor(), s, (int) (from + v[1]), hend, name + " RamBatch")));
            out.add(new Raw(s, hend, to)); // the page bytes
            return out;
        }
        Descriptor d = switch (type) {
            case HELLO -> Hello.getDescriptor();
            case SECTION_START -> SectionStart.getDescriptor();
            case SECTION_END -> SectionEnd.getDescriptor();
            case STATE -> StateSection.getDescriptor();
            case COMMAND -> Command.getDescriptor();
            case COMPLETE -> Complete.getDescriptor();
            case RETURN -> ReturnMessage.getDescriptor();
            case DISCARD -> io.godwit.wire.proto.PostcopyDiscard.getDescriptor();
            case MAPPED_RAM -> io.godwit.wire.proto.MappedRamLayout.getDescriptor();
            case RAM_PAGES, MULTIFD_PAGES -> throw new AssertionError();
        };
        return message(d, s, from, to, name + " " + d.getName());
    }

    /** A protobuf message's fields: varints and length prefixes are sites, nested messages recursed into. */
    private List<Node> message(Descriptor d, byte[] s, int from, int to, String name) {
        List<Node> out = new ArrayList<>();
        java.util.Set<Integer> present = new java.util.HashSet<>();
        int p = from;
        while (p < to) {
            long[] key = varint(s, p);
            present.add((int) (key[0] >>> 3));
            out.add(new Raw(s, p, (int) (p + key[1])));
            p += (int) key[1];
            FieldDescriptor f = d.findFieldByNumber((int) (key[0] >>> 3));
            String fname = name + "." + (f == null ? "#" + (key[0] >>> 3) : f.getName());
            switch ((int) (key[0] & 7)) {
                case 0 -> {
                    long[] v = varint(s, p);
                    out.add(field(fname, Encoding.VARINT, s, p, (int) (p + v[1]), null));
                    p += (int) v[1];
                }
                case 1 -> {
                    out.add(new Raw(s, p, p + 8));
                    p += 8;
                }
                case 5 -> {
                    out.add(new Raw(s, p, p + 4));
                    p += 4;
                }
                case 2 -> {
                    long[] v = varint(s, p);
                    int start = (int) (p + v[1]);
                    int end = (int) (start + v[0]);
                    out.add(field(fname + " length", Encoding.VARINT, s, p, start, delimited(f, s, start, end, fname)));
                    p = end;
                }
                default -> throw new IllegalArgumentException(fname + ": wire type " + (key[0] & 7));
            }
        }
        for (FieldDescriptor f : d.getFields()) {
            if (!present.contains(f.getNumber()) && varint(f)) {
                Field absent = field(name + "." + f.getName() + " (absent)", Encoding.VARINT, s, p, p, null);
                absent.absentPacked = f.isRepeated();
                absent.absentKey = encode(Encoding.VARINT, (long) f.getNumber() << 3 | (f.isRepeated() ? 2 : 0), false);
                out.add(absent);
            }
        }
        return out;
    }

    private static boolean varint(FieldDescriptor f) {
        return switch (f.getType()) {
            case INT32, INT64, UINT32, UINT64, SINT32, SINT64, BOOL, ENUM -> true;
            default -> false;
        };
    }

    private List<Node> delimited(FieldDescriptor f, byte[] s, int from, int to, String name) {
        if (f != null && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            return message(f.getMessageType(), s, from, to, name);
        }
        if (f != null && f.isRepeated() && f.isPackable()) {
            List<Node> out = new ArrayList<>();
            int i = 0;
            for (int p = from; p < to; i++) {
                long[] v = varint(s, p);
                out.add(field(name + "[" + i + "]", Encoding.VARINT, s, p, (int) (p + v[1]), null));
                p += (int) v[1];
            }
            return out;
        }
        if (f != null && f.getContainingType() == StateSection.getDescriptor() && f.getName().equals("data")) {
            return state(s, from, to, name);
        }
        return new ArrayList<>(List.of(new Raw(s, from, to)));
    }

    /** State encoding (StateEncoder): tagged fields, then a subsection count, names and lengths. */
    private List<Node> state(byte[] s, int from, int to, String name) {
        List<Node> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(s);
        int p = from;
        while (true) {
            int tag = s[p];
            out.add(new Raw(s, p, p + 1));
            p++;
            if (tag == 0x7f) {
                break;
            }
            switch (tag) {
                case 1 -> {
                    out.add(new Raw(s, p, p + 1));
                    p += 1;
                }
                case 2 -> {
                    out.add(field(name + " int", Encoding.INT32, s, p, p + 4, null));
                    p += 4;
                }
                case 3 -> {
                    out.add(field(name + " long", Encoding.INT64, s, p, p + 8, null));
                    p += 8;
                }
                case 4 -> {
                    out.add(new Raw(s, p, p + 8));
                    p += 8;
                }
                case 5, 6 -> {
                    int len = b.getInt(p);
                    out.add(field(name + " bytes length", Encoding.INT32, s, p, p + 4,
                            new ArrayList<>(List.of(new Raw(s, p + 4, p + 4 + len)))));
                    p += 4 + len;
                }
                default -> throw new IllegalArgumentException(name + ": state tag " + tag);
            }
        }
        int n = b.getInt(p);
        out.add(field(name + " subsection count", Encoding.INT32, s, p, p + 4, null));
        p += 4;
        for (int i = 0; i < n; i++) {
            int nameLen = b.getInt(p);
            String sub = new String(s, p + 4, nameLen, java.nio.charset.StandardCharsets.UTF_8);
            out.add(field(name + " subsection name length", Encoding.INT32, s, p, p + 4,
                    new ArrayList<>(List.of(new Raw(s, p + 4, p + 4 + nameLen)))));
            p += 4 + nameLen;
            int len = b.getInt(p);
            out.add(field(name + "/" + sub + " length", Encoding.INT32, s, p, p + 4,
                    state(s, p + 4, p + 4 + len, name + "/" + sub)));
            p += 4 + len;
        }
        if (p != to) {
            throw new IllegalArgumentException(name + ": " + (to - p) + " bytes after the state");
        }
        return out;
    }

    /** {value, bytes} of the varint at {@code p}. */
    private static long[] varint(byte[] s, int p) {
        long v = 0;
        for (int i = 0; i < 10; i++) {
            int c = s[p + i];
            v |= (long) (c & 0x7f) << (7 * i);
            if ((c & 0x80) == 0) {
                return new long[] {v, i + 1};
            }
        }
        throw new IllegalArgumentException("a varint of more than 10 bytes at " + p);
    }

    static byte[] encode(Encoding e, long value, boolean overlong) {
        return switch (e) {
            case INT32 -> ByteBuffer.allocate(4).putInt((int) value).array();
            case INT64 -> ByteBuffer.allocate(8).putLong(value).array();
            case VARINT -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream(10);
                long v = value;
                // An overlong varint pads with continuation bytes up to 10, which parsers must bound.
                int min = overlong ? 10 : 1;
                for (int i = 0; ; i++) {
                    boolean more = (v & ~0x7fL) != 0 || i + 1 < min;
                    out.write((int) (v & 0x7f) | (more ? 0x80 : 0));
                    v >>>= 7;
                    if (!more) {
                        break;
                    }
                }
                yield out.toByteArray();
            }
        };
    }
}
