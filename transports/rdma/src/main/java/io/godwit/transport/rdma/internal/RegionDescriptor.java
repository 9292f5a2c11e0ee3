package io.godwit.transport.rdma.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What the destination tells the source about a registered region (the address and rkey an RDMA
 * application exchanges after ibv_reg_mr): the key, the length, and where the region's key file is.
 * The key file's name is derived from the key, so only a peer that was given the key finds it.
 */
record RegionDescriptor(long key, long length, Path keyFile, String name) {

    private static final int MAGIC = 0x52444d52; // "RDMR"
    private static final int MAX_TEXT = 4096;

    static String keyFileName(long key) {
        return String.format("godwit-rdma-%016x", key);
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeLong(key);
            out.writeLong(length);
            out.writeUTF(keyFile.toString());
            out.writeUTF(name);
        } catch (IOException e) {
            throw new IllegalStateException(e); // in memory
        }
        return bytes.toByteArray();
    }

    /** Decodes and checks a descriptor from the peer; any damage is a one-line IOException. */
    static RegionDescriptor decode(byte[] data) throws IOException {
        if (data.length > 4 * MAX_TEXT) {
            throw new IOException("rdma: a region descriptor of " + data.length + " bytes is too long");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("rdma: not a region descriptor");
            }
            long key = in.readLong();
            long length = in.readLong();
            Path file = Path.of(in.readUTF());
            String name = in.readUTF();
            if (length <= 0 || !file.isAbsolute() || !file.getFileName().toString().equals(keyFileName(key))) {
                throw new IOException("rdma: region descriptor for '" + name + "' does not match its key");
            }
            return new RegionDescriptor(key, length, file, name);
        } catch (java.io.EOFException | java.io.UTFDataFormatException | java.nio.file.InvalidPathException e) {
            throw new IOException("rdma: a truncated or damaged region descriptor", e);
        }
    }
}
