package io.godwit.privatefiles.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Files and folders that only their owner can reach, whatever the umask: they are created with that
 * mode (open(2) with O_CREAT|O_EXCL and 0600, mkdir(2) with 0700), never given it by a chmod
 * afterwards, so there is no moment at which another user could open them (a umask only takes bits
 * away). A file that exists already was named by the user: it is used with the mode it has, and
 * {@link #exposure} tells the caller whether others can reach it, for a warning.
 */
public final class PrivateFiles {

    /** rw-------, for files and sockets. */
    public static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");
    /** rwx------, for folders. */
    public static final Set<PosixFilePermission> OWNER_RWX = PosixFilePermissions.fromString("rwx------");

    static final FileAttribute<Set<PosixFilePermission>> FOLDER_MODE = PosixFilePermissions.asFileAttribute(OWNER_RWX);
    private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE = PosixFilePermissions.asFileAttribute(OWNER_RW);
    private static final int GROUP_AND_OTHERS = 077;
    /** A file that another process keeps creating and deleting: give up rather than loop. */
    private static final int ATTEMPTS = 3;

    private PrivateFiles() {}

    /** A file opened for reading and writing, and whether this open created it. */
    public record Opened(FileChannel channel, boolean created) {}

    /**
     * Opens {@code path} for reading and writing; a missing file is created owner-only (0600), in the
     * same open(2) that creates it. An existing file is opened as it is, its mode untouched.
     */
    public static Opened openReadWrite(Path path) throws IOException {
        FileAlreadyExistsException exists = null;
        for (int i = 0; i < ATTEMPTS; i++) {
            try {
                return new Opened(FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE), FILE_MODE), true);
            } catch (FileAlreadyExistsException e) {
                exists = e;
            }
            try {
                return new Opened(FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), false);
            } catch (NoSuchFileException deleted) {
                // removed between the two opens: create it after all
            }
        }
        throw exists;
    }

    /**
     * Makes sure {@code dir} is a folder of this process's user, creating it (and its missing
     * parents) owner-only (0700) when it does not exist. An existing folder keeps its mode, but
     * must be a folder, not a link to one, and must belong to this user: a folder that another user
     * made first, at a name in a shared place, would let that user swap what is put in it.
     */
    public static void folder(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectories(dir, FOLDER_MODE);
            } catch (FileAlreadyExistsException raced) {
                // made by someone else meanwhile: checked below like any existing one
            }
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is not a folder");
        }
        Optional<Integer> mine = ownUid();
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (mine.isPresent() && !mine.get().equals(owner)) {
            throw new IOException(dir + " belongs to another user (uid " + owner + ")");
        }
    }

    /**
     * How users other than this process's can reach {@code path}: its group and other bits
     * ({@code "mode 0644"}), its owner when that is someone else ({@code "owner uid 1001"}), or
     * both; empty when only this user can, or where the file system keeps no POSIX modes.
     */
    public static Optional<String> exposure(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode") & 07777;
            Object owner = Files.getAttribute(path, "unix:uid");
            List<String> ways = new ArrayList<>();
            if ((mode & GROUP_AND_OTHERS) != 0) {
                ways.add(String.format("mode %04o", mode));
            }
            if (ownUid().map(uid -> !uid.equals(owner)).orElse(false)) {
                ways.add("owner uid " + owner);
            }
            return ways.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", ways));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** This process's user id (the owner of /proc/self), or empty where that cannot be read. */
    public static Optional<Integer> ownUid() {
        try {
            return Optional.of((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
