package io.godwit.coordinator.internal;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.godwit.wire.WireException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * multifd-compression: one codec per channel thread (QEMU's per-channel zlib and zstd streams), each
 * batch compressed on its own so a batch decodes without the ones before it. zlib is the JDK's
 * Deflater and Inflater; zstd is zstd-jni, whose bundle carries the native library for the platform.
 *
 * <p>Used by one thread; {@link #close} frees the native state.
 */
abstract class MultifdCodec implements AutoCloseable {

    /** The codec's number in a batch header (RamBatch.codec) and in {@code MULTIFD_COMPRESSIONS}. */
    static final int NONE = 0;
    static final int ZLIB = 1;
    static final int ZSTD = 2;

    /** The codec for {@code id} at {@code level}, or null for none. */
    static MultifdCodec of(int id, int level) {
        return switch (id) {
            case ZLIB -> new Zlib(level);
            case ZSTD -> new Zstd(level);
            default -> null;
        };
    }

    /** Throws a one-line reason when zstd-jni or its native library cannot be loaded on this host. */
    static void requireZstd() {
        try {
            com.github.luben.zstd.Zstd.compressBound(1);
        } catch (LinkageError e) {
            throw new IllegalArgumentException("multifd-compression zstd: the zstd library does not load here ("
                    + e + "); use zlib or none");
        }
    }

    /** The id in a batch header. */
    abstract int id();

    /**
     * Compresses {@code src} (its remaining bytes) into {@code dst} from its position; returns the
     * compressed length, or -1 when it would not be smaller than the input (the batch then goes raw).
     */
    abstract int compress(ByteBuffer src, ByteBuffer dst);

    /**
     * Decodes {@code src} into {@code dst}, which has room for exactly the batch's pages; a batch that
     * decodes to another size, or does not decode, is the source's fault and a one-line error.
     */
    final void decompress(ByteBuffer src, ByteBuffer dst) throws WireException {
        int expected = dst.remaining();
        long got;
        try {
            got = inflate(src, dst);
        } catch (DataFormatException | ZstdException e) {
            throw new WireException("a " + name() + "-compressed RAM batch of " + expected / 4096
                    + " pages does not decode: " + e.getMessage());
        }
        if (got != expected) {
            throw new WireException("a " + name() + "-compressed RAM batch decodes to " + (got < 0 ? "more than "
                    + expected : got) + " bytes, not the " + expected + " of its " + expected / 4096 + " pages");
        }
    }

    /** Bytes decoded into {@code dst}, or -1 when the input holds more than fits. */
    abstract long inflate(ByteBuffer src, ByteBuffer dst) throws DataFormatException;

    abstract String name();

    @Override
    public abstract void close();

    private static final class Zlib extends MultifdCodec {
        private final Deflater deflater;
        private final Inflater inflater = new Inflater();

        Zlib(int level) {
            deflater = new Deflater(level);
        }

        @Override
        int id() {
            return ZLIB;
        }

        @Override
        String name() {
            return "zlib";
        }

        @Override
        int compress(ByteBuffer src, ByteBuffer dst) {
            int limit = src.remaining() - 1; // never more than the input less one byte
            int start = dst.position();
            ByteBuffer out = dst.slice(start, Math.min(limit, dst.remaining()));
            deflater.reset();
            deflater.setInput(src);
            deflater.finish();
            while (!deflater.finished()) {
                if (deflater.deflate(out) == 0 && !out.hasRemaining()) {
                    return -1;
                }
            }
            return out.position();
        }

        @Override
        long inflate(ByteBuffer src, ByteBuffer dst) throws DataFormatException {
            inflater.reset();
            inflater.setInput(src);
            int start = dst.position();
            while (!inflater.finished()) {
                if (inflater.inflate(dst) == 0) {
                    if (!dst.hasRemaining() && !inflater.finished()) {
                        return -1; // more output than the pages: refused before it is written
                    }
                    if (inflater.needsInput() || inflater.needsDictionary()) {
                        break; // truncated: decodes to fewer bytes
                    }
                }
            }
            return dst.position() - start;
        }

        @Override
        public void close() {
            deflater.end();
            inflater.end();
        }
    }

    private static final class Zstd extends MultifdCodec {
        private final int level;
        private ZstdCompressCtx compressor;
        private ZstdDecompressCtx decompressor;

        Zstd(int level) {
            this.level = level;
        }

        @Override
        int id() {
            return ZSTD;
        }

        @Override
        String name() {
            return "zstd";
        }

        @Override
        int compress(ByteBuffer src, ByteBuffer dst) {
            if (compressor == null) {
                compressor = new ZstdCompressCtx().setLevel(level);
            }
            int n = src.remaining();
            int room = (int) Math.min(dst.remaining(), com.github.luben.zstd.Zstd.compressBound(n));
            int len;
            try {
                len = compressor.compressDirectByteBuffer(dst, dst.position(), room, src, src.position(), n);
            } catch (ZstdException e) {
                return -1; // does not fit: goes raw
            }
            return len < n ? len : -1;
        }

        @Override
        long inflate(ByteBuffer src, ByteBuffer dst) {
            if (decompressor == null) {
                decompressor = new ZstdDecompressCtx();
            }
            try {
                return decompressor.decompressDirectByteBuffer(dst, dst.position(), dst.remaining(), src,
                        src.position(), src.remaining());
            } catch (ZstdException e) {
                if (e.getErrorCode() == com.github.luben.zstd.Zstd.errDstSizeTooSmall()) {
                    return -1; // more output than the pages
                }
                throw e;
            }
        }

        @Override
        public void close() {
            if (compressor != null) {
                compressor.close();
            }
            if (decompressor != null) {
                decompressor.close();
            }
        }
    }
}
