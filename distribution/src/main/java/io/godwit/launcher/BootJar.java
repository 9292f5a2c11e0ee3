package io.godwit.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * A jar of {@code bundle/} with its start pass, read from the manifest before it is installed:
 * the install order has to be known before the first bundle id is handed out (see {@link StartPass}).
 *
 * @param path the jar
 * @param pass when it starts
 * @param rank its rank inside the pass ({@link StartPass#rankInPass})
 */
record BootJar(Path path, StartPass pass, int rank) {

    /** The jars of {@code dir} in start order: by pass, by rank, then by file name. */
    static List<BootJar> inStartOrder(Path dir) throws IOException {
        List<BootJar> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path path : files.filter(p -> p.getFileName().toString().endsWith(".jar")).toList()) {
                Dictionary<String, String> headers = headers(path);
                jars.add(new BootJar(path, StartPass.of(headers), StartPass.rankInPass(headers)));
            }
        }
        jars.sort(Comparator.comparing(BootJar::pass)
                .thenComparingInt(BootJar::rank)
                .thenComparing(j -> j.path().getFileName().toString()));
        return jars;
    }

    private static Dictionary<String, String> headers(Path jar) throws IOException {
        Hashtable<String, String> headers = new Hashtable<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                throw new IOException(jar + " has no manifest; only OSGi bundles belong in bundle/");
            }
            for (var entry : manifest.getMainAttributes().entrySet()) {
                headers.put(((Attributes.Name) entry.getKey()).toString(), (String) entry.getValue());
            }
        }
        return headers;
    }
}
