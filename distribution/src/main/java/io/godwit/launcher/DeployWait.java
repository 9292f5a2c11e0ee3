package io.godwit.launcher;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * Waits until FileInstall has made its first scan of every folder an
 * {@code etc/org.apache.felix.fileinstall-NAME.cfg} names (deploy/ is one, Karaf's way), so that
 * a host reports ready with the plugins that were in those folders installed and started.
 *
 * <p>Why a wait: the watchers of {@code felix.fileinstall.dir} in {@code conf/config.properties}
 * scan once while FileInstall starts, but FileInstall makes the watcher of a {@code .cfg} when
 * ConfigAdmin hands it the configuration, on ConfigAdmin's own thread, after the start. With
 * {@code felix.fileinstall.noInitialDelay = true} that watcher makes its first scan (installing and
 * starting what it finds) before it starts its thread, which it names {@code fileinstall-DIR}; so
 * a live thread of that name says the first scan is done. ConfigAdmin and the configurations are
 * reached by reflection: the launcher cannot link against a bundle's API.
 */
final class DeployWait {

    static final String CONFIGURATION_ADMIN = "org.osgi.service.cm.ConfigurationAdmin";
    static final String FACTORY = "(service.factoryPid=org.apache.felix.fileinstall)";
    static final String THREAD_PREFIX = "fileinstall-";

    private static final long POLL_MS = 20;

    private DeployWait() {
    }

    /**
     * Waits up to {@code timeoutMs} for the first scan of every watcher configured through
     * ConfigAdmin.
     *
     * @return the folders still not scanned at the deadline: empty when all were (or there are none)
     */
    static List<String> await(BundleContext context, long timeoutMs)
            throws ReflectiveOperationException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            List<String> pending = unscanned(folders(context), watcherThreads());
            if (pending.isEmpty() || System.nanoTime() - deadline >= 0) {
                return pending;
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** The folders of {@code folders} that no live watcher thread names. */
    static List<String> unscanned(List<String> folders, Set<String> threadNames) {
        List<String> pending = new ArrayList<>();
        for (String folder : folders) {
            if (!threadNames.contains(THREAD_PREFIX + folder)) {
                pending.add(folder);
            }
        }
        return pending;
    }

    private static Set<String> watcherThreads() {
        Set<String> names = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(THREAD_PREFIX)) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** The {@code felix.fileinstall.dir} of each FileInstall factory configuration; none without ConfigAdmin. */
    static List<String> folders(BundleContext context) throws ReflectiveOperationException {
        ServiceReference<?>[] refs;
        try {
            refs = context.getAllServiceReferences(CONFIGURATION_ADMIN, null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e); // there is no filter
        }
        Object cm = refs == null ? null : context.getService(refs[0]);
        if (cm == null) {
            return List.of();
        }
        try {
            Bundle bundle = refs[0].getBundle();
            Method list = bundle.loadClass(CONFIGURATION_ADMIN).getMethod("listConfigurations", String.class);
            Method properties = bundle.loadClass("org.osgi.service.cm.Configuration").getMethod("getProperties");
            List<String> folders = new ArrayList<>();
            Object[] configurations = (Object[]) list.invoke(cm, FACTORY);
            for (Object c : configurations == null ? new Object[0] : configurations) {
                Dictionary<?, ?> props = (Dictionary<?, ?>) properties.invoke(c);
                Object dir = props == null ? null : props.get("felix.fileinstall.dir");
                if (dir != null) {
                    folders.add(dir.toString());
                }
            }
            return folders;
        } finally {
            context.ungetService(refs[0]);
        }
    }
}
