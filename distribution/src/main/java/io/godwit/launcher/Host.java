package io.godwit.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.BundleWiring;

/**
 * One Felix framework with the boot bundles of {@code bundle/}, started in {@link StartPass} order.
 * The launcher never links against a bundle: everything it needs from inside (slf4j, Gogo) it
 * reaches by reflection through the bundle's own class loader.
 */
public final class Host {

    /** How long a clean stop may take before the launcher gives up waiting and exits anyway. */
    private static final long STOP_TIMEOUT_MS = 30_000;

    private final Framework framework;
    private final HostLog log;
    private final Map<StartPass, List<Bundle>> passes = new EnumMap<>(StartPass.class);
    private final List<String> startFailures = new ArrayList<>();

    private Host(Framework framework, HostLog log) {
        this.framework = framework;
        this.log = log;
    }

    /** Creates (does not start) the framework with the resolved configuration. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Host create(Map<String, String> config, HostLog log) {
        // Felix takes object values for its own keys; the API's Map<String, String> is a formality.
        Map properties = new HashMap<>(config);
        properties.put("felix.log.logger", log.felixLogger());
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, Host.class.getClassLoader())
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path (bin/org.apache.felix.framework.jar)"));
        return new Host(factory.newFramework(properties), log);
    }

    /**
     * Installs every jar of {@code bundleDir} and starts them pass by pass, all but the console
     * ({@link #startConsole()}). A bundle that fails to start is logged and remembered
     * ({@link #startFailures()}); the others still start, so the host stays inspectable.
     */
    public void start(Path bundleDir) throws BundleException, IOException {
        framework.init();
        BundleContext context = framework.getBundleContext();
        // Installed in start order, so that Felix, which stops by descending id, stops in reverse.
        for (BootJar jar : BootJar.inStartOrder(bundleDir)) {
            Bundle bundle = context.installBundle(jar.path().toUri().toString());
            passes.computeIfAbsent(jar.pass(), p -> new ArrayList<>()).add(bundle);
        }
        framework.start();
        startPass(StartPass.EXTENDERS);
        startPass(StartPass.LOGGING);
        bindSlf4j();
        startPass(StartPass.INFRASTRUCTURE);
        startPass(StartPass.APPLICATION);
        startPass(StartPass.DEPLOYER);
        log.info("framework started with " + context.getBundles().length + " bundles");
    }

    private void startPass(StartPass pass) {
        for (Bundle bundle : passes.getOrDefault(pass, List.of())) {
            try {
                bundle.start();
            } catch (BundleException | RuntimeException e) {
                log.warn("bundle " + bundle.getSymbolicName() + " did not start", e);
                startFailures.add(bundle.getSymbolicName() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Binds slf4j to its provider (slf4j-jdk14) now, before anything else logs: slf4j binds once,
     * and a logger made before the provider is active would stay NOP for the life of the process.
     */
    private void bindSlf4j() {
        for (Bundle bundle : passes.getOrDefault(StartPass.LOGGING, List.of())) {
            try {
                bundle.loadClass("org.slf4j.LoggerFactory").getMethod("getLogger", String.class)
                        .invoke(null, "io.godwit.launcher");
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.warn("could not bind slf4j early; bundle logs may reach command output", e);
            }
        }
    }

    /**
     * Starts gogo.jline with the thread context class loader set to JLine's bundle class loader:
     * JLine finds its terminal providers (exec, jni, ffm) through the TCCL, and without them it
     * falls back to a dumb terminal even on a real TTY. The console thread that gogo.jline creates
     * inherits this TCCL.
     */
    public void startConsole() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try {
            ClassLoader jline = bundleClassLoader("org.jline");
            if (jline != null) {
                thread.setContextClassLoader(jline);
            }
            startPass(StartPass.CONSOLE);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private ClassLoader bundleClassLoader(String symbolicName) {
        for (Bundle bundle : framework.getBundleContext().getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                BundleWiring wiring = bundle.adapt(BundleWiring.class);
                return wiring == null ? null : wiring.getClassLoader();
            }
        }
        return null;
    }

    /** One line per bundle that did not start, for the user; details are in the log. */
    public List<String> startFailures() {
        return List.copyOf(startFailures);
    }

    public BundleContext context() {
        return framework.getBundleContext();
    }

    /** True until the framework begins to stop (e.g. after the shell's {@code quit}). */
    public boolean isActive() {
        return (framework.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0;
    }

    /** Blocks until the framework has stopped, for whatever reason. */
    public void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    /** Stops the framework and waits (bounded) for every bundle to stop; safe to call twice. */
    public void stop() {
        try {
            if ((framework.getState() & (Bundle.ACTIVE | Bundle.STARTING | Bundle.STOPPING)) != 0) {
                framework.stop();
            }
            FrameworkEvent event = framework.waitForStop(STOP_TIMEOUT_MS);
            if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                log.warn("the framework did not stop within " + STOP_TIMEOUT_MS / 1000 + " s; exiting anyway", null);
            }
        } catch (BundleException | InterruptedException | RuntimeException e) {
            log.warn("stopping the framework failed", e);
        }
    }
}
