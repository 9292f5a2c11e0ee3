package io.godwit.coordinator.internal;

import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.MigrationChannel;
import io.godwit.api.transport.Transport;
import io.godwit.api.transport.TransportCapability;
import io.godwit.wire.FrameType;
import io.godwit.wire.proto.ReturnMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * {@link UnixTestTransport} whose destination side breaks its return path right after it sent LOADED:
 * the socket is closed, and every later write throws, as when the source dies or a migrate_cancel
 * closes the channel at that moment. It reads the frames the destination writes to know when.
 */
final class BrokenReturnPathTransport implements Transport {

    private final UnixTestTransport unix = new UnixTestTransport();
    private volatile boolean broke;

    /** True once a LOADED went out and the path was broken behind it. */
    boolean broke() {
        return broke;
    }

    @Override
    public Set<TransportCapability> capabilities() {
        return unix.capabilities();
    }

    @Override
    public MigrationChannel connectOutgoing(String address) throws IOException {
        return unix.connectOutgoing(address);
    }

    @Override
    public IncomingListener listenIncoming(String address) throws IOException {
        IncomingListener inner = unix.listenIncoming(address);
        return new IncomingListener() {
            @Override
            public String uri() {
                return "broken:" + address;
            }

            @Override
            public MigrationChannel accept() throws IOException {
                return new Breaking(inner.accept());
            }

            @Override
            public void close() throws IOException {
                inner.close();
            }
        };
    }

    /** The destination's channel: passes writes through, parsing them as frames, until LOADED went out. */
    private final class Breaking implements MigrationChannel {
        private final MigrationChannel ch;
        private final ByteArrayOutputStream written = new ByteArrayOutputStream();
        private boolean broken;

        Breaking(MigrationChannel ch) {
            this.ch = ch;
        }

        @Override
        public String name() {
            return "broken:" + ch.name();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return ch.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return (int) write(new ByteBuffer[] {src}, 0, 1);
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
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
                    n += ch.write(srcs[i]);
                }
            }
            if (loadedWritten()) {
                broken = true;
                broke = true;
                ch.close();
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

        @Override
        public void shutdownOutput() throws IOException {
            ch.shutdownOutput();
        }

        @Override
        public boolean isOpen() {
            return ch.isOpen();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
