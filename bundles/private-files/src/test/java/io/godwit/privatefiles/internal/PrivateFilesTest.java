package io.godwit.privatefiles.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files and folders made owner-only, and existing ones left as they are. Meaningful under a umask that leaves group or other bits, as the usual 022 does. */
class PrivateFilesTest {

    @TempDir
    Path dir;

    @Test
    void aMissingFileIsCreatedOwnerOnly() throws IOException {
        Path file = dir.resolve("new");
        PrivateFiles.Opened opened = PrivateFiles.openReadWrite(file);
        try (var ch = opened.channel()) {
            assertTrue(opened.created());
            ch.write(ByteBuffer.wrap(new byte[] {7}));
        }
        assertEquals("rw-------", mode(file));
        assertEquals(Optional.empty(), PrivateFiles.exposure(file));
    }

    @Test
    void anExistingFileKeepsItsModeAndBytesAndSaysHowItIsOpen() throws IOException {
        Path file = Files.write(dir.resolve("old"), new byte[] {1, 2, 3});
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        PrivateFiles.Opened opened = PrivateFiles.openReadWrite(file);
        try (var ch = opened.channel()) {
            assertFalse(opened.created());
            assertEquals(3, ch.size());
        }
        assertEquals("rw-r--r--", mode(file));
        assertEquals(Optional.of("mode 0644"), PrivateFiles.exposure(file));
    }

    @Test
    void aMissingFolderIsCreatedOwnerOnlyWithItsParents() throws IOException {
        Path folder = dir.resolve("a/b");
        PrivateFiles.folder(folder);
        assertEquals("rwx------", mode(folder));
        assertEquals("rwx------", mode(dir.resolve("a")));
        PrivateFiles.folder(folder); // again: it is there, and this user's
    }

    @Test
    void anExistingFolderKeepsItsModeButALinkToOneIsRefused() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
        PrivateFiles.folder(folder);
        assertEquals("rwxr-xr-x", mode(folder));
        Path link = Files.createSymbolicLink(dir.resolve("link"), folder);
        IOException e = assertThrows(IOException.class, () -> PrivateFiles.folder(link));
        assertEquals(link + " is not a folder", e.getMessage());
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
