package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RAM file of {@code --mem-path} (in /dev/shm, as the README has it) holds the guest's memory:
 * made by Godwit, it is owner-only whatever the umask; named by the user, it keeps the mode it has.
 * Run under the usual umask 022, the first fails where the file takes its mode from the umask.
 */
class RamFileModeTest {

    @TempDir
    Path dir;

    @Test
    void aRamFileGodwitCreatesIsOwnerOnly() throws Exception {
        Path file = dir.resolve("guest.ram");
        try (KernelGuestMemory mem = KernelGuestMemory.map(1 << 20, file, false)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals(1 << 20, Files.size(file));
        }
    }

    @Test
    void anExistingRamFileKeepsItsModeAndIsGrown() throws Exception {
        Path file = Files.createFile(dir.resolve("shared.ram"));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        try (KernelGuestMemory mem = KernelGuestMemory.map(1 << 20, file, false)) {
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals(1 << 20, Files.size(file));
        }
    }
}
