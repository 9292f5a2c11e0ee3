package io.godwit.transport.rdma.internal;

import io.godwit.api.memory.RamBlock;
import io.godwit.privatefiles.internal.PrivateFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination's registered regions on one channel (ibv_reg_mr / ibv_dereg_mr). Registering a
 * block pins it (every page faulted in for writing) and publishes it under a random 64-bit key: a key
 * file in the registry folder, a symbolic link to the block's shared file, named after this process and
 * the key. Deregistering removes the key files, so a stale key reaches nothing. The folder is this
 * user's and owner-only (0700) when Godwit creates it, so other users cannot list the keys, but the key
 * is no secret: the source's checks in {@link #open} are what keep its writes inside guest RAM. (A
 * symbolic link has no mode of its own: the folder's keeps it private.)
 */
final class MemoryRegistry implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MemoryRegistry.class);
    private static final SecureRandom KEYS = new SecureRandom();
    private static final long PID = ProcessHandle.current().pid();

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
        long fileSize = Files.size(file);
        if (fileSize != block.size()) {
            throw new IOException("rdma: RAM block '" + block.name() + "' is " + block.size() + " bytes but its file "
                    + file + " is " + fileSize + "; the source writes only into a file of exactly the RAM's size");
        }
        int errno = Native.populateWrite(block.raw());
        if (errno != 0) {
            LOG.debug("rdma: pinning '{}' failed with errno {}; pages fault in at first write", block.name(), errno);
        }
        long key = KEYS.nextLong();
        Path keyFile = folder.resolve(RegionDescriptor.keyFileName(PID, key));
        try {
            PrivateFiles.folder(folder);
            Files.createSymbolicLink(keyFile, file.toAbsolutePath());
        } catch (IOException e) {
            throw new IOException("rdma: cannot publish the key of RAM block '" + block.name() + "' in " + folder + ": "
                    + e.getMessage(), e);
        }
        keyFiles.add(keyFile);
        return new RegionDescriptor(key, block.size(), PID, block.name()).encode();
    }

    /**
     * The source's side: the real path of the region a descriptor names, looked up by its key in the
     * source's own registry folder (never a path the peer sent). The key file and the file it resolves
     * to must belong to this process's user, and the file must be a regular file of exactly the
     * registered length: a planted link to another file, a device or a bigger file is refused.
     */
    static Path open(Path folder, RegionDescriptor d, String channel) throws IOException {
        Path keyFile = folder.resolve(RegionDescriptor.keyFileName(d.pid(), d.key()));
        String what = channel + ": region '" + d.name() + "' (key " + Long.toHexString(d.key()) + ")";
        Path real;
        try {
            checkOwner(keyFile, what, LinkOption.NOFOLLOW_LINKS);
            real = keyFile.toRealPath();
        } catch (NoSuchFileException e) {
            throw new IOException(what + " is not registered in " + folder, e);
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(what + " is not a regular file: " + real);
        }
        checkOwner(real, what);
        long size = Files.size(real);
        if (size != d.length()) {
            throw new IOException(what + " is " + size + " bytes, registered as " + d.length());
        }
        return real;
    }

    private static void checkOwner(Path p, String what, LinkOption... options) throws IOException {
        Optional<Integer> mine = PrivateFiles.ownUid();
        if (mine.isPresent() && !mine.get().equals(Files.getAttribute(p, "unix:uid", options))) {
            throw new IOException(what + ": " + p + " belongs to another user");
        }
    }

    /**
     * Removes key files left by destinations that died without deregistering (their process is gone).
     * Cheap: one listing of the folder, at the transport's start. Returns how many were removed.
     */
    static int removeStale(Path folder) {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        int removed = 0;
        try (DirectoryStream<Path> keys = Files.newDirectoryStream(folder, RegionDescriptor.PREFIX + "*")) {
            for (Path k : keys) {
                long pid = pidOf(k.getFileName().toString());
                try {
                    if (pid > 0 && ProcessHandle.of(pid).isEmpty() && Files.isSymbolicLink(k) && Files.deleteIfExists(k)) {
                        removed++;
                    }
                } catch (IOException e) {
                    LOG.debug("rdma: cannot remove stale key file {}: {}", k, e.toString()); // another user's
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("rdma: cannot clean stale key files in {}: {}", folder, e.toString());
        }
        if (removed > 0) {
            LOG.info("rdma: removed {} key file(s) of destinations that are gone from {}", removed, folder);
        }
        return removed;
    }

    private static long pidOf(String keyFileName) {
        String rest = keyFileName.substring(RegionDescriptor.PREFIX.length());
        int dash = rest.indexOf('-');
        try {
            return dash > 0 ? Long.parseLong(rest.substring(0, dash)) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
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
