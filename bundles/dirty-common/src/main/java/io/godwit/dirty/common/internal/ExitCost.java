package io.godwit.dirty.common.internal;

import java.util.Map;

/**
 * The simulated price of one VM exit: a PML-full exit, a write-protect fault, a kick. A real exit costs
 * the vCPU a world switch out of guest mode and back (around a microsecond on current x86, more with
 * the handler's work); here the vCPU's own thread spins that long, so the trade-off between a
 * mechanism with many cheap-to-handle exits (write protection) and one with few (PML) shows in the
 * guest's write rate. The default is 0: only the handler's own work is paid.
 *
 * <p>Configured by {@value #PROPERTY}, in nanoseconds: a component property (Configuration Admin, PID
 * of the tracker's component) wins over the framework or system property of the same name.
 */
public final class ExitCost {

    /** Component, framework and system property: nanoseconds one VM exit costs the vCPU. */
    public static final String PROPERTY = "godwit.dirty.exit-cost-ns";

    private ExitCost() {}

    /** The system property's value, or 0. */
    public static long fromSystem() {
        return parse(System.getProperty(PROPERTY), "system property");
    }

    /**
     * The component property's value if set, else the framework property's ({@code frameworkValue},
     * from {@code BundleContext.getProperty}, which falls back to system properties), else 0.
     */
    public static long resolve(Map<String, ?> componentProperties, String frameworkValue) {
        Object v = componentProperties == null ? null : componentProperties.get(PROPERTY);
        if (v instanceof Number n) {
            return check(n.longValue(), "component property");
        }
        if (v != null) {
            return parse(v.toString(), "component property");
        }
        return parse(frameworkValue, "framework property");
    }

    private static long parse(String text, String where) {
        if (text == null || text.isBlank()) {
            return 0;
        }
        try {
            return check(Long.parseLong(text.strip()), where);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + " " + PROPERTY + " must be a number of nanoseconds: '" + text
                    + "'");
        }
    }

    private static long check(long ns, String where) {
        if (ns < 0 || ns > 1_000_000_000L) {
            throw new IllegalArgumentException(where + " " + PROPERTY + " must be between 0 and 1e9 ns: " + ns);
        }
        return ns;
    }

    /** Spins for {@code ns} nanoseconds on the calling (vCPU) thread: the exit's world switch. */
    public static void pay(long ns) {
        if (ns <= 0) {
            return;
        }
        long end = System.nanoTime() + ns;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }
}
