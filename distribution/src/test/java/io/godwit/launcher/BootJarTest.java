package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The install (= start) order of bundle/, decided from the manifests before anything is installed. */
class BootJarTest {

    @TempDir
    Path dir;

    private void bundle(String file, String bsn, String provides) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-SymbolicName", bsn);
        if (provides != null) {
            main.putValue("Provide-Capability", provides);
        }
        try (OutputStream out = Files.newOutputStream(dir.resolve(file)); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.flush();
        }
    }

    @Test
    void ordersByPassThenMediatorFirstThenFileName() throws Exception {
        bundle("godwit-shell.jar", "io.godwit.shell", null);
        bundle("godwit-kernel.jar", "io.godwit.kernel", null);
        bundle("org.apache.felix.scr.jar", "org.apache.felix.scr", "osgi.extender;osgi.extender=\"osgi.component\"");
        bundle("asm.jar", "org.objectweb.asm", null);
        bundle("slf4j-simple.jar", "slf4j.simple", "osgi.serviceloader;osgi.serviceloader=\"org.slf4j.spi.SLF4JServiceProvider\"");
        bundle("spifly.jar", "org.apache.aries.spifly.dynamic.bundle", "osgi.extender;osgi.extender=\"osgi.serviceloader.registrar\"");
        bundle("slf4j-api.jar", "slf4j.api", null);
        bundle("org.apache.felix.fileinstall.jar", "org.apache.felix.fileinstall", null);
        bundle("org.apache.felix.gogo.jline.jar", "org.apache.felix.gogo.jline", null);
        Files.writeString(dir.resolve("README.txt"), "not a jar");

        List<String> order = BootJar.inStartOrder(dir).stream().map(j -> j.path().getFileName().toString()).toList();

        assertEquals(List.of("spifly.jar", "slf4j-simple.jar", "slf4j-api.jar",
                "org.apache.felix.scr.jar", "asm.jar",
                "godwit-kernel.jar", "godwit-shell.jar",
                "org.apache.felix.fileinstall.jar", "org.apache.felix.gogo.jline.jar"), order);
    }

    @Test
    void aJarWithoutManifestIsRefused() throws Exception {
        try (OutputStream out = Files.newOutputStream(dir.resolve("plain.jar")); JarOutputStream jar = new JarOutputStream(out)) {
            jar.flush();
        }
        IOException e = assertThrows(IOException.class, () -> BootJar.inStartOrder(dir));
        assertEquals(dir.resolve("plain.jar") + " has no manifest; only OSGi bundles belong in bundle/", e.getMessage());
    }
}
