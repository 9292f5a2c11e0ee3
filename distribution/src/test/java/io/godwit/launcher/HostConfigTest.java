package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostConfigTest {

    @TempDir
    Path dir;

    private Map<String, String> load(String content, Properties system) throws IOException {
        Path file = dir.resolve("config.properties");
        Files.writeString(file, content);
        return HostConfig.load(file, Map.of("godwit.home", "/opt/godwit", "godwit.run", "/opt/godwit/run/42"), system);
    }

    @Test
    void substitutesBuiltinsFileValuesAndSystemProperties() throws Exception {
        Properties system = new Properties();
        system.setProperty("user.name", "ada");
        Map<String, String> config = load("""
                # comment
                org.osgi.framework.storage=${godwit.run}/felix-cache
                a=${b}/x
                b=${godwit.home}
                who=${user.name}
                """, system);
        assertEquals("/opt/godwit/run/42/felix-cache", config.get("org.osgi.framework.storage"));
        assertEquals("/opt/godwit/x", config.get("a"));
        assertEquals("ada", config.get("who"));
        assertEquals("/opt/godwit", config.get("godwit.home"));
    }

    @Test
    void systemPropertiesOfTheFrameworkFamiliesOverride() throws Exception {
        Properties system = new Properties();
        system.setProperty("felix.fileinstall.poll", "100");
        system.setProperty("user.dir", "/elsewhere");
        system.setProperty("godwit.extra", "${godwit.home}/extra");
        Map<String, String> config = load("felix.fileinstall.poll=500\n", system);
        assertEquals("100", config.get("felix.fileinstall.poll"));
        assertEquals("/opt/godwit/extra", config.get("godwit.extra"));
        assertTrue(!config.containsKey("user.dir"), "only framework families are copied");
    }

    @Test
    void builtinsCannotBeOverridden() throws Exception {
        Properties system = new Properties();
        system.setProperty("godwit.home", "/wrong");
        assertEquals("/opt/godwit", load("x=1\n", system).get("godwit.home"));
    }

    @Test
    void undefinedVariablesAndCyclesAreErrors() {
        IOException undefined = assertThrows(IOException.class, () -> load("a=${nope}\n", new Properties()));
        assertTrue(undefined.getMessage().contains("undefined variable ${nope} in a"), undefined.getMessage());
        IOException cycle = assertThrows(IOException.class, () -> load("a=${b}\nb=${a}\n", new Properties()));
        assertTrue(cycle.getMessage().contains("refers to itself"), cycle.getMessage());
    }
}
