package io.godwit.distribution;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's chromium, headless, as a test's browser: loads a local page, returns its DOM after load and
 * every message the page wrote to its console (Chromium logs them as {@code CONSOLE} lines on stderr:
 * script errors, blocked loads, Content-Security-Policy violations). Each load runs in a fresh profile
 * and is stopped by its process id.
 */
final class HeadlessChromium {

    private static final long TIMEOUT_SECONDS = 120;

    private final Path binary;

    private HeadlessChromium(Path binary) {
        this.binary = binary;
    }

    /** The chromium on PATH ({@code chromium}, as Debian's package installs it), if any. */
    static Optional<HeadlessChromium> find() {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator)).filter(d -> !d.isEmpty())
                .flatMap(d -> Stream.of("chromium", "chromium-browser").map(n -> Path.of(d, n)))
                .filter(Files::isExecutable).findFirst().map(HeadlessChromium::new);
    }

    /** Why a test that needs the browser skips here. */
    static final String MISSING = "no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it as root)";

    /** What the browser made of a page. */
    record Page(String dom, List<String> console) {}

    /** Loads {@code html} and dumps its DOM. */
    Page load(Path html) throws IOException, InterruptedException {
        return run(html, "--dump-dom");
    }

    /** Loads {@code html} and writes a PNG of its first {@code height} pixels to {@code png}. */
    Page screenshot(Path html, Path png, int height) throws IOException, InterruptedException {
        return run(html, "--screenshot=" + png.toAbsolutePath(), "--window-size=900," + height,
                "--hide-scrollbars");
    }

    private Page run(Path html, String... action) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("godwit-chromium-");
        Path out = profile.resolveSibling(profile.getFileName() + ".out");
        Path err = profile.resolveSibling(profile.getFileName() + ".err");
        try {
            List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox",
                    "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile, "--enable-logging=stderr",
                    "--log-level=0"));
            command.addAll(List.of(action));
            command.add(html.toAbsolutePath().toUri().toString());
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("chromium did not finish loading " + html + " in " + TIMEOUT_SECONDS + " s");
            }
            List<String> console = Files.readAllLines(err).stream().filter(l -> l.contains(":CONSOLE")).toList();
            if (p.exitValue() != 0) {
                throw new AssertionError("chromium exited with " + p.exitValue() + ":\n" + Files.readString(err));
            }
            return new Page(Files.readString(out), console);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
