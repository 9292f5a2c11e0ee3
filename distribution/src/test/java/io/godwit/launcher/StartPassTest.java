package io.godwit.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Dictionary;
import java.util.Hashtable;

import org.junit.jupiter.api.Test;

class StartPassTest {

    private static Dictionary<String, String> headers(String... keyValues) {
        Hashtable<String, String> headers = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            headers.put(keyValues[i], keyValues[i + 1]);
        }
        return headers;
    }

    @Test
    void serviceLoaderMediatorAndProvidersStartFirst() {
        Dictionary<String, String> spifly = headers("Bundle-SymbolicName", "org.apache.aries.spifly.dynamic.bundle",
                "Provide-Capability", "osgi.extender;osgi.extender=\"osgi.serviceloader.processor\";version:Version=\"1.0\"");
        Dictionary<String, String> simple = headers("Bundle-SymbolicName", "slf4j.simple",
                "Provide-Capability", "osgi.serviceloader;osgi.serviceloader=\"org.slf4j.spi.SLF4JServiceProvider\"");
        assertEquals(StartPass.EXTENDERS, StartPass.of(spifly));
        assertEquals(StartPass.EXTENDERS, StartPass.of(simple));
        assertEquals(0, StartPass.rankInPass(spifly));
        assertEquals(1, StartPass.rankInPass(simple));
    }

    @Test
    void slf4jApiConsoleFragmentsAndTheRest() {
        assertEquals(StartPass.LOGGING, StartPass.of(headers("Bundle-SymbolicName", "slf4j.api")));
        assertEquals(StartPass.CONSOLE, StartPass.of(headers("Bundle-SymbolicName", "org.apache.felix.gogo.jline;singleton:=true")));
        assertEquals(StartPass.NONE, StartPass.of(headers("Bundle-SymbolicName", "x", "Fragment-Host", "y")));
        assertEquals(StartPass.APPLICATION, StartPass.of(headers("Bundle-SymbolicName", "io.godwit.kernel")));
        assertEquals(StartPass.INFRASTRUCTURE, StartPass.of(headers("Bundle-SymbolicName", "org.apache.felix.scr")));
        assertEquals(StartPass.DEPLOYER, StartPass.of(headers("Bundle-SymbolicName", "org.apache.felix.fileinstall")));
    }
}
