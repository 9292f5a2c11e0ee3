package io.godwit.launcher;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Waits for a service by LDAP filter. Declarative Services registers commands asynchronously with
 * respect to the launcher (a component may wait for a reference), so a script must wait for the
 * commands it uses rather than for bundles to be ACTIVE.
 */
public final class ServiceWait {

    /** Gogo's command processor, registered by gogo.runtime. */
    public static final String COMMAND_PROCESSOR = "(objectClass=org.apache.felix.service.command.CommandProcessor)";
    /** Any command of the godwit shell; the shell registers its commands once the kernel is there. */
    public static final String GODWIT_COMMANDS = "(osgi.command.scope=godwit)";

    private ServiceWait() {
    }

    /**
     * Waits up to {@code timeoutMs} for a service matching {@code filter}.
     *
     * @return its reference, or null on timeout
     * @throws InvalidSyntaxException if the filter is not valid LDAP syntax
     */
    public static ServiceReference<?> await(BundleContext context, String filter, long timeoutMs)
            throws InvalidSyntaxException, InterruptedException {
        Filter parsed = context.createFilter(filter);
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context, parsed, null);
        // All services, not only those whose class the launcher could load: it can load none of them.
        tracker.open(true);
        try {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            while (true) {
                ServiceReference<Object> ref = tracker.getServiceReference();
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (ref != null || left <= 0) {
                    return ref;
                }
                tracker.waitForService(left);
            }
        } finally {
            tracker.close();
        }
    }
}
