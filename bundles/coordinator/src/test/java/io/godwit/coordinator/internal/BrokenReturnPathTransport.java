package io.godwit.coordinator.internal;

import io.godwit.api.transport.MigrationChannel;
import io.godwit.wire.FrameType;
import io.godwit.wire.proto.ReturnMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * {@link UnixTestTransport} whose destination side breaks its return path right after it sent LOADED:
 * the socket is closed, and every later write throws, as when the source dies or a migrate_cancel
 * closes the channel at that moment. It reads the frames the destination writes to know when.
 */
final class BrokenReturnPathTransport extends ForwardingTransport {

    private volatile boolean broke;

    /** True once a LOADED went out and the path was broken behind it. */
    boolean broke() {
        return broke;
    }

    @Override
    MigrationChannel incoming(MigrationChannel channel) {
        return new Breaking(channel);
    }

    /** The destination's channel: passes writes through, parsing them as frames, until LOADED went out. */
    private final class Breaking extends ForwardingChannel {
        private final ByteArrayOutputStream written = new ByteArrayOutputStream();
        private boolean broken;

        Breaking(MigrationChannel ch) {
            super(ch);
        }

        @Override
        public synchronized long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            if (broken) {
                throw new IOException("injected: the return path is broken");
            }
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                ByteBuffer copy = srcs[i].duplicate();
                byte[] bytes = new byte[copy.remaining()];
                copy.get(bytes);
                written.write(bytes);
                while (srcs[i].hasRemaining()) {
                    n += inner.write(srcs[i]);
                }
            }
            if (loadedWritten()) {
                broken = true;
                broke = true;
                inner.close();
            }
            return n;
        }

        /** Whether the frames written so far include a RETURN frame of kind LOADED. */
        private boolean loadedWritten() throws IOException {
            ByteBuffer b = ByteBuffer.wrap(written.toByteArray());
            while (b.remaining() >= 5) {
                int type = b.get();
                int len = b.getInt();
                if (b.remaining() < len) {
                    return false;
                }
                byte[] payload = new byte[len];
                b.get(payload);
                if (type == FrameType.RETURN.code()
                        && ReturnMessage.parseFrom(payload).getKind() == ReturnMessage.Kind.LOADED) {
                    return true;
                }
            }
            return false;
        }
    }
}
