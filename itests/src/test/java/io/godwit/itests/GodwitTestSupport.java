package io.godwit.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.options.UrlProvisionOption;

/**
 * The pax-exam configuration every integration test starts from: Felix with the real bundles, staged
 * by the pom from the reactor to {@code target/bundles/NAME.jar} (artifactId, no version) and
 * installed by {@code file:} URL.
 *
 * <p>{@link #baseOptions()} installs every staged jar, so a new bundle only needs its dependency line
 * in the itests pom. ASM, SPI Fly and slf4j start at level 1, before anything logs: slf4j binds its
 * provider once, on first use (osgi-stack-spike.md, failure 6).
 */
public abstract class GodwitTestSupport {

    /** Staged bundles (by name prefix) that must be active before any other bundle starts. */
    private static final List<String> START_LEVEL_1 = List.of("asm", "org.apache.aries.spifly", "slf4j-");

    /** Bundles every test needs; their absence means the staging did not run. */
    private static final Set<String> REQUIRED = Set.of(
            "org.apache.felix.scr", "org.apache.felix.gogo.runtime", "godwit-api", "godwit-kernel",
            "godwit-cpu-synthetic", "slf4j-simple");

    /** Felix with every staged bundle, the test's JUnit bundles and a clean cache. */
    public static Option[] baseOptions() {
        List<Option> options = new ArrayList<>();
        // Without this, java.util.ServiceLoader finds slf4j-simple on the failsafe class path (failure 5).
        options.add(frameworkProperty("felix.bootdelegation.implicit").value("false"));
        for (String name : stagedBundles()) {
            options.add(stagedBundle(name));
        }
        options.add(junitBundles());
        options.add(cleanCaches());
        return options.toArray(Option[]::new);
    }

    /** One staged bundle by its artifactId, at start level 1 when it belongs there. */
    public static UrlProvisionOption stagedBundle(String name) {
        File jar = new File(bundlesDir(), name + ".jar");
        if (!jar.isFile()) {
            throw new IllegalStateException("no staged bundle " + jar + ": add it to the itests pom");
        }
        UrlProvisionOption option = bundle(jar.toURI().toString());
        return START_LEVEL_1.stream().anyMatch(name::startsWith) ? option.startLevel(1) : option;
    }

    /** The artifactIds of the staged bundles, sorted. */
    static List<String> stagedBundles() {
        File dir = bundlesDir();
        String[] jars = dir.list((d, n) -> n.endsWith(".jar"));
        List<String> names = jars == null ? List.of()
                : Arrays.stream(jars).map(n -> n.substring(0, n.length() - 4)).sorted().toList();
        if (!names.containsAll(REQUIRED)) {
            throw new IllegalStateException("bundles missing in " + dir + " (have " + names + ", need " + REQUIRED
                    + "): run the tests with mvn verify, which stages them in pre-integration-test");
        }
        return names;
    }

    private static File bundlesDir() {
        return new File(System.getProperty("bundles.dir", "target/bundles")).getAbsoluteFile();
    }
}
