package io.godwit.launcher;

import static io.godwit.launcher.ComponentWait.ACTIVE;
import static io.godwit.launcher.ComponentWait.ENABLING;
import static io.godwit.launcher.ComponentWait.SATISFIED;
import static io.godwit.launcher.ComponentWait.UNSATISFIED_REFERENCE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import io.godwit.launcher.ComponentWait.Component;
import io.godwit.launcher.ComponentWait.Missing;
import org.junit.jupiter.api.Test;

/** Which components a script waits for: the unsatisfied ones that will be satisfied. */
class ComponentWaitTest {

    private static final String VMS = "io.godwit.api.vm.VmManager";
    private static final String MIGRATION = "io.godwit.api.migration.MigrationService";

    private static Component component(String name, int state, String service, Missing... missing) {
        return new Component(name, state, service == null ? List.of() : List.of(service),
                Map.of("component.name", name, "objectClass", service == null ? new String[0] : new String[] {service}),
                List.of(missing));
    }

    private static Missing missing(String service) {
        return new Missing(service, null);
    }

    @Test
    void aSettledHostHasNothingPending() {
        assertEquals(List.of(), ComponentWait.pending(List.of(
                component("kernel", ACTIVE, VMS),
                component("coordinator", SATISFIED, MIGRATION, missing(VMS)),
                component("commands", ACTIVE, null))));
        assertEquals(List.of(), ComponentWait.pending(List.of()));
    }

    /** The race of -c "migrate ...": the coordinator's service is there, its commands not yet. */
    @Test
    void aComponentWhoseServiceIsOfferedIsWaitedFor() {
        assertEquals(List.of("migration-commands", "migrate-info"), ComponentWait.pending(List.of(
                component("kernel", ACTIVE, VMS),
                component("coordinator", SATISFIED, MIGRATION, missing(VMS)),
                component("migration-commands", UNSATISFIED_REFERENCE, "Commands", missing(MIGRATION)),
                component("migrate-info", UNSATISFIED_REFERENCE, "InfoSubject", missing(VMS), missing(MIGRATION)))));
    }

    @Test
    void aChainOfComponentsIsWaitedForToTheEnd() {
        assertEquals(List.of("migration-commands", "coordinator"), ComponentWait.pending(List.of(
                component("migration-commands", UNSATISFIED_REFERENCE, "Commands", missing(MIGRATION)),
                component("coordinator", UNSATISFIED_REFERENCE, MIGRATION, missing(VMS)),
                component("kernel", ACTIVE, VMS))));
    }

    /** Without a coordinator (or with one that cannot start), migrate never comes: no waiting. */
    @Test
    void aServiceNobodyOffersIsNotWaitedFor() {
        assertEquals(List.of(), ComponentWait.pending(List.of(
                component("kernel", ACTIVE, VMS),
                component("migration-commands", UNSATISFIED_REFERENCE, "Commands", missing(MIGRATION)))));
        assertEquals(List.of(), ComponentWait.pending(List.of(
                component("coordinator", UNSATISFIED_REFERENCE, MIGRATION, missing("io.godwit.api.Missing")),
                component("migration-commands", UNSATISFIED_REFERENCE, "Commands", missing(MIGRATION)))));
    }

    @Test
    void aCycleIsNotWaitedFor() {
        assertEquals(List.of(), ComponentWait.pending(List.of(
                component("a", UNSATISFIED_REFERENCE, "A", missing("B")),
                component("b", UNSATISFIED_REFERENCE, "B", missing("A")))));
    }

    @Test
    void theTargetFilterMustMatchTheProvider() {
        Component kernel = component("kernel", ACTIVE, VMS);
        assertEquals(List.of(), ComponentWait.pending(List.of(kernel,
                component("picky", UNSATISFIED_REFERENCE, null, new Missing(VMS, "(component.name=other)")))));
        assertEquals(List.of("picky"), ComponentWait.pending(List.of(kernel,
                component("picky", UNSATISFIED_REFERENCE, null, new Missing(VMS, "(component.name=kernel)")))));
        assertEquals(List.of(), ComponentWait.pending(List.of(kernel,
                component("broken", UNSATISFIED_REFERENCE, null, new Missing(VMS, "(((")))));
    }

    @Test
    void aComponentBeingEnabledIsWaitedFor() {
        assertEquals(List.of("new"), ComponentWait.pending(List.of(component("new", ENABLING, null))));
    }
}
