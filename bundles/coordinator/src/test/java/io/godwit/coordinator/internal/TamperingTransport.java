package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import io.godwit.wire.FrameType;
import io.godwit.wire.StreamHeader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * {@link UnixTestTransport} whose source channel tampers with the stream at the frame level (type
 * byte, big-endian length, payload), as a buggy transport or loader would, to show that verify-ram
 * catches it: one byte of a page flipped or a batch of pages dropped in the last batch before the end
 * of RAM (an earlier one would be healed by the pages' later copies), or an early batch sent again at
 * the end of RAM so that its pages' older copies land last.
 */
final class TamperingTransport extends ForwardingTransport {

    enum Tamper { FLIP, DROP, REPLAY }

    private final Tamper tamper;
    /** REPLAY: which RAM batch (counted from 1) goes again at the end. */
    private final int batch;
    private volatile boolean done;

    TamperingTransport(Tamper tamper, int batch) {
        this.tamper = tamper;
        this.batch = batch;
    }

    /** True once the tampering happened. */
    boolean done() {
        return done;
    }

    @Override
    MigrationChannel outgoing(MigrationChannel ch) {
        return new ForwardingChannel(ch) {
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
            private boolean headerPassed;
            private int batches;
            private byte[] replay;

            @Override
            public synchronized long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                long n = 0;
                for (int i = offset; i < offset + length; i++) {
                    byte[] b = new byte[srcs[i].remaining()];
                    srcs[i].get(b);
                    pending.write(b);
                    n += b.length;
                }
                forwardWholeFrames();
                return n;
            }

            private void forwardWholeFrames() throws IOException {
                byte[] all = pending.toByteArray();
                int pos = 0;
                if (!headerPassed) {
                    if (all.length < StreamHeader.LENGTH) {
                        return;
                    }
                    send(all, 0, StreamHeader.LENGTH);
                    pos = StreamHeader.LENGTH;
                    headerPassed = true;
                }
                while (all.length - pos >= 5) {
                    int type = all[pos];
                    int len = ByteBuffer.wrap(all, pos + 1, 4).getInt();
                    if (all.length - pos - 5 < len) {
                        break;
                    }
                    frame(type, all, pos, 5 + len);
                    pos += 5 + len;
                }
                pending.reset();
                pending.write(all, pos, all.length - pos);
            }

            /** FLIP and DROP: the RAM batch last seen, held until the next frame says whether it was the last. */
            private byte[] held;

            private void frame(int type, byte[] all, int pos, int size) throws IOException {
                byte[] f = java.util.Arrays.copyOfRange(all, pos, pos + size);
                if (type == FrameType.RAM_PAGES.code()) {
                    if (++batches == batch && tamper == Tamper.REPLAY) {
                        replay = f;
                    }
                    if (tamper != Tamper.REPLAY) {
                        flushHeld();
                        held = f;
                        return;
                    }
                }
                if (type == FrameType.SECTION_END.code()) {
                    if (held != null && tamper == Tamper.FLIP && hasPageBytes(held)) {
                        held[held.length - 1] ^= 0x40; // inside the batch's last page
                        done = true;
                    } else if (held != null && tamper == Tamper.DROP) {
                        held = null; // its pages (zero pages too: their indices) never arrive
                        done = true;
                    }
                    if (replay != null) {
                        flushHeld();
                        send(replay, 0, replay.length); // an old copy of the batch's pages, after every newer one
                        replay = null;
                        done = true;
                    }
                }
                if (type == FrameType.SECTION_END.code()) {
                    flushHeld();
                }
                // Other frames (PING, SWITCHOVER_START) may pass the held batch: the destination takes
                // RAM batches up to the end of RAM, and RAM batches keep their order among themselves.
                send(f, 0, f.length);
            }

            private void flushHeld() throws IOException {
                if (held != null) {
                    send(held, 0, held.length);
                    held = null;
                }
            }

            /** Whether a RAM batch frame carries page bytes after its header (varint length, RamBatch). */
            private boolean hasPageBytes(byte[] f) {
                int p = 5;
                int headerLen = 0;
                for (int shift = 0; ; shift += 7) {
                    byte b = f[p++];
                    headerLen |= (b & 0x7f) << shift;
                    if (b >= 0) {
                        break;
                    }
                }
                return f.length - p - headerLen > 0;
            }

            private void send(byte[] b, int off, int len) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        };
    }
}
