package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class VmArgsTest {

    private final FakeVmManager vms = new FakeVmManager();

    private String error(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> VmArgs.resolve(vms, "stop", args)).getMessage();
    }

    @Test
    void noNameWithNoVmIsAClearError() {
        assertEquals("no VM on this host: create one with vm_create", error());
    }

    @Test
    void noNameWithOneVmMeansThatVm() {
        FakeVm a = vms.add("a");
        assertSame(a, VmArgs.resolve(vms, "stop"));
        assertSame(a, VmArgs.resolve(vms, "stop", (String[]) null));
    }

    @Test
    void noNameWithSeveralVmsAsksForOne() {
        vms.add("a");
        vms.add("b");
        assertEquals("2 VMs on this host (a, b): name one, e.g. stop a", error());
    }

    @Test
    void aNameSelectsItsVm() {
        vms.add("a");
        FakeVm b = vms.add("b");
        assertSame(b, VmArgs.resolve(vms, "stop", "b"));
    }

    @Test
    void anUnknownNameListsTheVms() {
        assertEquals("no VM named 'x': the host has no VMs", error("x"));
        vms.add("a");
        vms.add("b");
        assertEquals("no VM named 'x' (VMs: a, b)", error("x"));
    }

    @Test
    void anOptionIsRefusedAsUnknownOption() {
        vms.add("a");
        assertEquals("unknown option '--force' for stop (see help stop)", error("a", "--force"));
    }

    @Test
    void extraArgumentsAreRefused() {
        vms.add("a");
        assertEquals("too many arguments for stop: a b (give one VM name)", error("a", "b"));
    }

    @Test
    void requiredNameMustBeThere() {
        assertEquals("vm_destroy needs a name",
                assertThrows(IllegalArgumentException.class, () -> VmArgs.requiredName("vm_destroy", "a name"))
                        .getMessage());
        assertEquals("a", VmArgs.requiredName("vm_destroy", "a name", "a"));
        assertNull(VmArgs.optionalName("stop"));
    }

    private VmArgs.Named split(int min, int max, String... args) {
        return VmArgs.withOptionalName(vms, "cmd", "cmd [NAME] X [Y]", min, max, args);
    }

    @Test
    void anOptionalNameIsTheFirstArgumentWhenThereIsRoomForIt() {
        FakeVm a = vms.add("a");
        assertEquals(new VmArgs.Named(a, java.util.List.of("x")), split(1, 1, "x"));
        assertEquals(new VmArgs.Named(a, java.util.List.of("x")), split(1, 1, "a", "x"));
        // With an optional last argument, a lone word is the NAME only if such a VM exists.
        assertEquals(new VmArgs.Named(a, java.util.List.of()), split(0, 1, "a"));
        assertEquals(new VmArgs.Named(a, java.util.List.of("x")), split(0, 1, "x"));
        assertEquals(new VmArgs.Named(a, java.util.List.of("-5")), split(1, 1, "-5")); // a negative value
        FakeVm b = vms.add("b");
        assertEquals(new VmArgs.Named(b, java.util.List.of("x", "y")), split(2, 2, "b", "x", "y"));
        assertEquals("2 VMs on this host (a, b): name one, e.g. cmd a",
                assertThrows(IllegalArgumentException.class, () -> split(1, 1, "x")).getMessage());
        assertEquals("no VM named 'c' (VMs: a, b)",
                assertThrows(IllegalArgumentException.class, () -> split(1, 1, "c", "x")).getMessage());
        assertEquals("missing arguments for cmd (usage: cmd [NAME] X [Y])",
                assertThrows(IllegalArgumentException.class, () -> split(2, 2, "x")).getMessage());
        assertEquals("too many arguments for cmd: a x y (usage: cmd [NAME] X [Y])",
                assertThrows(IllegalArgumentException.class, () -> split(1, 1, "a", "x", "y")).getMessage());
        assertEquals("unknown option '--now' for cmd (see help cmd)",
                assertThrows(IllegalArgumentException.class, () -> split(1, 1, "--now", "x")).getMessage());
    }
}
