package io.godwit.launcher;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * Waits until Declarative Services has brought up every component it is about to. The godwit
 * commands come up one component at a time: those that need only the kernel first, the migration
 * commands (and {@code info migrate}) once the coordinator's MigrationService is there. So the
 * first godwit command is no sign that {@code migrate} exists yet, and a script that waited only
 * for it could race. Rather than naming the components to wait for, this asks SCR (its
 * {@code ServiceComponentRuntime}, by reflection: the launcher cannot link against a bundle's API)
 * which components are unsatisfied but satisfiable, so it covers plugins of {@code deploy/} too.
 */
final class ComponentWait {

    static final String COMPONENT_RUNTIME = "org.osgi.service.component.runtime.ServiceComponentRuntime";
    private static final String DTO = "org.osgi.service.component.runtime.dto.";

    /** Not a DTO state: an enabled component SCR has not yet made a configuration for. */
    static final int ENABLING = 0;
    // ComponentConfigurationDTO's states
    static final int UNSATISFIED_REFERENCE = 2;
    static final int SATISFIED = 4;
    static final int ACTIVE = 8;

    private static final long POLL_MS = 20;

    private ComponentWait() {
    }

    /**
     * Waits up to {@code timeoutMs} until no component is {@linkplain #pending(List) pending}.
     *
     * @return the components still pending at the deadline: empty when SCR has settled (or is absent)
     */
    static List<String> await(BundleContext context, long timeoutMs)
            throws ReflectiveOperationException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            List<String> pending = pending(components(context));
            if (pending.isEmpty() || System.nanoTime() - deadline >= 0) {
                return pending;
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** A service a component misses: its interface, and its reference's target filter or null. */
    record Missing(String service, String target) {
    }

    /** One component configuration, as much of it as this needs. */
    record Component(String name, int state, List<String> services, Map<String, ?> properties,
                     List<Missing> missing) {

        /** Whether this component's service would satisfy {@code m}. */
        boolean offers(Missing m) {
            if (!services.contains(m.service())) {
                return false;
            }
            try {
                return m.target() == null || FrameworkUtil.createFilter(m.target()).matches(properties);
            } catch (InvalidSyntaxException e) {
                return false; // SCR cannot satisfy it either
            }
        }
    }

    /**
     * The names of the components SCR is about to bring up: those being enabled, and those not
     * satisfied whose every missing service is offered by a component that is satisfied, or will
     * be by the same rule (so a chain counts: migrate's commands wait for the coordinator, which
     * may wait for the kernel), with the reference's target filter matching the provider. A
     * component that misses a service nobody offers (a transport that is not installed, a cycle,
     * a configuration that is required) is not waited for: it will not come by itself.
     */
    static List<String> pending(List<Component> components) {
        Set<Component> coming = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Component c : components) {
            if (c.state() == SATISFIED || c.state() == ACTIVE) {
                coming.add(c);
            }
        }
        for (boolean grew = true; grew; ) {
            grew = false;
            for (Component c : components) {
                if (c.state() == UNSATISFIED_REFERENCE && !coming.contains(c)
                        && c.missing().stream().allMatch(m -> coming.stream().anyMatch(p -> p.offers(m)))) {
                    coming.add(c);
                    grew = true;
                }
            }
        }
        List<String> pending = new ArrayList<>();
        for (Component c : components) {
            if (c.state() == ENABLING || c.state() == UNSATISFIED_REFERENCE && coming.contains(c)) {
                pending.add(c.name());
            }
        }
        return pending;
    }

    /** SCR's components (factory components left out), or none when SCR is not there. */
    static List<Component> components(BundleContext context) throws ReflectiveOperationException {
        ServiceReference<?>[] refs;
        try {
            refs = context.getAllServiceReferences(COMPONENT_RUNTIME, null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e); // there is no filter
        }
        Object scr = refs == null ? null : context.getService(refs[0]);
        if (scr == null) {
            return List.of();
        }
        try {
            Bundle bundle = refs[0].getBundle(); // SCR, whose class loader sees the DS API
            Class<?> api = bundle.loadClass(COMPONENT_RUNTIME);
            Class<?> descriptionType = bundle.loadClass(DTO + "ComponentDescriptionDTO");
            Method descriptions = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
            Method configurations = api.getMethod("getComponentConfigurationDTOs", descriptionType);
            Method enabled = api.getMethod("isComponentEnabled", descriptionType);
            List<Component> components = new ArrayList<>();
            for (Object d : (Collection<?>) descriptions.invoke(scr, (Object) new Bundle[0])) {
                if (field(d, "factory") != null) {
                    continue;
                }
                Collection<?> configs = (Collection<?>) configurations.invoke(scr, d);
                if (configs.isEmpty() && Boolean.TRUE.equals(enabled.invoke(scr, d))
                        && !"require".equals(field(d, "configurationPolicy"))) {
                    components.add(new Component((String) field(d, "name"), ENABLING, List.of(), Map.of(), List.of()));
                }
                for (Object c : configs) {
                    components.add(component(d, c));
                }
            }
            return components;
        } finally {
            context.ungetService(refs[0]);
        }
    }

    private static Component component(Object description, Object configuration) throws ReflectiveOperationException {
        String[] services = (String[]) field(description, "serviceInterfaces");
        services = services == null ? new String[0] : services;
        Object configured = field(configuration, "properties");
        Map<String, Object> properties = configured == null ? new HashMap<>() : new HashMap<>(castMap(configured));
        properties.put("objectClass", services);
        Map<String, String> interfaces = new HashMap<>();
        for (Object r : (Object[]) field(description, "references")) {
            interfaces.put((String) field(r, "name"), (String) field(r, "interfaceName"));
        }
        List<Missing> missing = new ArrayList<>();
        for (Object u : (Object[]) field(configuration, "unsatisfiedReferences")) {
            missing.add(new Missing(interfaces.get((String) field(u, "name")), (String) field(u, "target")));
        }
        return new Component((String) field(description, "name"), (Integer) field(configuration, "state"),
                List.of(services), properties, missing);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object map) {
        return (Map<String, Object>) map;
    }

    /** A public field of a DTO. */
    private static Object field(Object dto, String name) throws ReflectiveOperationException {
        return dto.getClass().getField(name).get(dto);
    }
}
