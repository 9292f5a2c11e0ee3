package io.godwit.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The host home ({@code bin/ conf/ bundle/ deploy/ etc/ log/ run/}) and this process's private
 * corner of it. Two hosts (a migration's source and destination) may run from one home at once,
 * so everything a process writes is keyed by its pid: {@code run/<pid>/} holds the Felix cache and
 * is deleted at exit; the log is {@code log/godwit-<pid>.log}.
 *
 * @param root the home directory
 * @param pid  this process's id
 */
public record HostHome(Path root, long pid) {

    /**
     * The home is the parent of the {@code bin/} that holds this launcher jar; the system property
     * {@code godwit.home} overrides that (for running from an IDE or a test).
     */
    public static HostHome locate() throws IOException {
        String configured = System.getProperty("godwit.home");
        Path root;
        if (configured != null) {
            root = Path.of(configured);
        } else {
            try {
                Path jar = Path.of(HostHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                root = jar.getParent().getParent();
            } catch (URISyntaxException | NullPointerException e) {
                throw new IOException("cannot tell where the godwit home is; set -Dgodwit.home", e);
            }
        }
        root = root.toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve("conf/config.properties"))) {
            throw new IOException(root + " is not a godwit home (no conf/config.properties)");
        }
        return new HostHome(root, ProcessHandle.current().pid());
    }

    public Path config() {
        return root.resolve("conf/config.properties");
    }

    public Path bundles() {
        return root.resolve("bundle");
    }

    /** This process's private directory; the Felix cache lives inside. */
    public Path runDir() {
        return root.resolve("run").resolve(Long.toString(pid));
    }

    public Path defaultLog() {
        return root.resolve("log").resolve("godwit-" + pid + ".log");
    }

    /** Creates the directories a host writes to; a hand-made or partly copied home still starts. */
    public void prepare() throws IOException {
        for (String dir : new String[] {"deploy", "etc", "log", "run"}) {
            Files.createDirectories(root.resolve(dir));
        }
        removeStaleRunDirs();
        Files.createDirectories(runDir());
    }

    /**
     * Removes {@code run/<pid>/} left by hosts that died without their shutdown hook (kill -9,
     * power loss). A directory whose pid is alive belongs to a running host and is left alone.
     */
    private void removeStaleRunDirs() throws IOException {
        try (Stream<Path> dirs = Files.list(root.resolve("run"))) {
            for (Path dir : dirs.toList()) {
                String name = dir.getFileName().toString();
                if (name.matches("\\d+") && ProcessHandle.of(Long.parseLong(name)).isEmpty()) {
                    deleteTree(dir);
                }
            }
        }
    }

    /** Deletes this process's run directory, best effort: it is called while the JVM exits. */
    public void removeRunDir() {
        try {
            deleteTree(runDir());
        } catch (IOException e) {
            System.err.println("godwit: could not remove " + runDir() + ": " + e.getMessage());
        }
    }

    /**
     * Deletes a tree. Another host starting at the same moment may be deleting the same stale tree:
     * whatever vanishes under us is already what we wanted.
     */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                return; // the other host got there first
            }
            throw e;
        } catch (NoSuchFileException e) {
            return;
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }
}
