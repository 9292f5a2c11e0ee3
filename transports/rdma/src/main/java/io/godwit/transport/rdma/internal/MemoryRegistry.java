package io.godwit.transport.rdma.internal;

import io.godwit.api.memory.RamBlock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination's registered regions on one channel (ibv_reg_mr / ibv_dereg_mr). Registering a
 * block pins it (every page faulted in for writing) and publishes it under a random 64-bit key: a key
 * file in the registry folder, a symbolic link to the block's shared file, named after the key.
 * Deregistering removes the key files, so a stale or guessed key reaches nothing.
 */
final class MemoryRegistry implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MemoryRegistry.class);
    private static final SecureRandom KEYS = new SecureRandom();

    private final Path folder;
    private final List<Path> keyFiles = new ArrayList<>();
    private boolean closed;

    MemoryRegistry(Path folder) {
        this.folder = folder;
    }

    synchronized byte[] register(RamBlock block) throws IOException {
        if (closed) {
            throw new IOException("rdma: the channel is closed; nothing can be registered on it");
        }
        Path file = block.backingFile().orElseThrow(() -> new IOException("rdma: RAM block '" + block.name()
                + "' is anonymous memory that the peer cannot map; create the VM with --mem-path FILE"));
        int errno = Native.populateWrite(block.raw());
        if (errno != 0) {
            LOG.debug("rdma: pinning '{}' failed with errno {}; pages fault in at first write", block.name(), errno);
        }
        long key = KEYS.nextLong();
        Path keyFile = folder.resolve(RegionDescriptor.keyFileName(key));
        try {
            Files.createDirectories(folder);
            Files.createSymbolicLink(keyFile, file.toAbsolutePath());
        } catch (IOException e) {
            throw new IOException("rdma: cannot publish the key of RAM block '" + block.name() + "' in " + folder + ": "
                    + e.getMessage(), e);
        }
        keyFiles.add(keyFile);
        return new RegionDescriptor(key, block.size(), keyFile.toAbsolutePath(), block.name()).encode();
    }

    /** Deregisters every region: their keys stop working for new attachments. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Path p : keyFiles) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.warn("rdma: cannot remove key file {}: {}", p, e.toString());
            }
        }
        keyFiles.clear();
    }
}
