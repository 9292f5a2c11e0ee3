package io.godwit.transport.rdma.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * What the destination tells the source about a registered region (the rkey and length an RDMA
 * application exchanges after ibv_reg_mr): the key, the length, the registering process and the
 * block's name. It carries no path: the source looks the key up in its own registry folder only
 * ({@link MemoryRegistry#open}), so a peer cannot point the source's writes at a file of its choosing.
 * The key is an identifier, not a secret (key files are listable); what protects the source is that it
 * only writes into a key file it owns, that resolves to a regular file of the registered length.
 */
record RegionDescriptor(long key, long length, long pid, String name) {

    private static final int MAGIC = 0x52444d32; // "RDM2": no peer path in it
    private static final int MAX_TEXT = 4096;
    static final String PREFIX = "godwit-rdma-";

    /** The key file's name: the registering process (for cleaning after it died), then the key. */
    static String keyFileName(long pid, long key) {
        return String.format("%s%d-%016x", PREFIX, pid, key);
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeLong(key);
            out.writeLong(length);
            out.writeLong(pid);
            out.writeUTF(name);
        } catch (IOException e) {
            throw new IllegalStateException(e); // in memory
        }
        return bytes.toByteArray();
    }

    /** Decodes and checks a descriptor from the peer; any damage is a one-line IOException. */
    static RegionDescriptor decode(byte[] data) throws IOException {
        if (data.length > 2 * MAX_TEXT) {
            throw new IOException("rdma: a region descriptor of " + data.length + " bytes is too long");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("rdma: not a region descriptor of this version");
            }
            long key = in.readLong();
            long length = in.readLong();
            long pid = in.readLong();
            String name = in.readUTF();
            if (length <= 0 || pid <= 0) {
                throw new IOException("rdma: region descriptor for '" + name + "' has length " + length + " and pid "
                        + pid);
            }
            return new RegionDescriptor(key, length, pid, name);
        } catch (java.io.EOFException | java.io.UTFDataFormatException e) {
            throw new IOException("rdma: a truncated or damaged region descriptor", e);
        }
    }
}
