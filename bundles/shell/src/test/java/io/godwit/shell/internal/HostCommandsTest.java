package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

class HostCommandsTest {

    @Test
    void sleepTakesFractionsOfSeconds() {
        assertEquals(Duration.ofMillis(500), HostCommands.duration("0.5"));
        assertEquals(Duration.ofSeconds(2), HostCommands.duration("2"));
        assertEquals(Duration.ZERO, HostCommands.duration("0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"x", "-1", "NaN", "1e10", ""})
    void sleepRefusesWhatIsNotADuration(String text) {
        assertEquals("invalid duration '" + text + "': use seconds, e.g. 2 or 0.5",
                assertThrows(IllegalArgumentException.class, () -> HostCommands.duration(text)).getMessage());
    }

    @Test
    void sleepSleeps() throws Exception {
        long start = System.nanoTime();
        new HostCommands(null).sleep("0.05");
        assertEquals(true, System.nanoTime() - start >= 50_000_000L);
    }

    @Test
    void quitStopsTheSystemBundle() throws Exception {
        List<String> calls = new ArrayList<>();
        Bundle system = (Bundle) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, method, args) -> {
                    calls.add(method.getName());
                    return null;
                });
        BundleContext context = (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    calls.add(method.getName() + "(" + args[0] + ")");
                    return system;
                });
        new HostCommands(context).quit();
        assertEquals(List.of("getBundle(" + Constants.SYSTEM_BUNDLE_LOCATION + ")", "stop"), calls);
    }
}
