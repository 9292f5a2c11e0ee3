package io.godwit.coordinator.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and initialises the classes of the migration path when the coordinator starts, on a thread
 * of its own ({@value #THREAD}), so that a host's first migration does not pay for it in its setup
 * (0.5 to 2 s measured: the coordinator's classes, the wire's protobuf messages and their
 * descriptors, each loaded on first use, on both hosts). The classes are those of this bundle and
 * of the godwit bundles it imports from (the API, the wire); what they pull in from protobuf and
 * the JDK comes with them. Initialising them has no effect but that: none starts a thread or opens
 * anything in a static initialiser. The thread runs at the lowest priority, gives up at the first
 * sign of a stop, and a class that will not load is skipped (the migration that needs it says why).
 */
final class Warmup implements Runnable {

    static final String THREAD = "coordinator-warmup";
    private static final String OURS = "io.godwit.";
    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

    private final Map<ClassLoader, Collection<String>> classes;
    private final BooleanSupplier stopped;

    Warmup(Map<ClassLoader, Collection<String>> classes, BooleanSupplier stopped) {
        this.classes = classes;
        this.stopped = stopped;
    }

    /** Starts warming up the classes of {@code bundle} and of the godwit bundles it imports from. */
    static Thread start(Bundle bundle) {
        Thread thread = new Thread(() -> {
            BundleWiring own = bundle.adapt(BundleWiring.class);
            if (own != null) {
                new Warmup(classesOf(own), Thread.currentThread()::isInterrupted).run();
            }
        }, THREAD);
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
        return thread;
    }

    @Override
    public void run() {
        long t0 = System.nanoTime();
        int loaded = 0;
        int skipped = 0;
        for (Map.Entry<ClassLoader, Collection<String>> e : classes.entrySet()) {
            for (String name : e.getValue()) {
                if (stopped.getAsBoolean()) {
                    return;
                }
                try {
                    Class.forName(name, true, e.getKey());
                    loaded++;
                } catch (ClassNotFoundException | LinkageError ex) {
                    skipped++; // an optional dependency missing, say; the path that needs it will tell
                }
            }
        }
        LOG.debug("warmed up {} classes ({} skipped) in {} ms", loaded, skipped, (System.nanoTime() - t0) / 1_000_000);
    }

    /** The class names of {@code own} and of the godwit bundles it imports packages from, by class loader. */
    static Map<ClassLoader, Collection<String>> classesOf(BundleWiring own) {
        Map<ClassLoader, Collection<String>> classes = new LinkedHashMap<>();
        List<BundleWiring> wirings = new ArrayList<>();
        wirings.add(own);
        for (BundleWire wire : own.getRequiredWires("osgi.wiring.package")) {
            BundleWiring provider = wire.getProviderWiring();
            if (provider != null && !wirings.contains(provider)
                    && provider.getRevision().getSymbolicName().startsWith(OURS)) {
                wirings.add(provider);
            }
        }
        for (BundleWiring w : wirings) {
            List<String> names = new ArrayList<>();
            for (String resource : w.listResources("/", "*.class",
                    BundleWiring.LISTRESOURCES_RECURSE | BundleWiring.LISTRESOURCES_LOCAL)) {
                if (!resource.endsWith("package-info.class") && !resource.startsWith("META-INF/")) {
                    names.add(resource.substring(0, resource.length() - ".class".length()).replace('/', '.'));
                }
            }
            if (w.getClassLoader() != null) {
                classes.put(w.getClassLoader(), names);
            }
        }
        return classes;
    }
}
