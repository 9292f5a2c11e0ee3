package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.vm.RunState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class VmCommandsTest {

    private final FakeVmManager vms = new FakeVmManager();
    private final VmCommands commands = new VmCommands(vms);

    /** vm_create NAME [options] without Gogo's flags (--paused, --mem-prealloc), as Gogo passes them. */
    private String create(String... args) {
        return commands.vm_create(false, false, args);
    }

    private static String error(Executable command) {
        return assertThrows(RuntimeException.class, command).getMessage();
    }

    /** A QMP bundle that listens where it is told, or cannot. */
    private static final class Qmp implements io.godwit.api.qmp.QmpServers {
        final java.util.Map<String, List<String>> added = new java.util.LinkedHashMap<>();

        @Override
        public String add(String vm, String address) throws java.io.IOException {
            if (address.contains("taken")) {
                throw new java.io.IOException("cannot listen on " + address + ": Address already in use");
            }
            added.computeIfAbsent(vm, v -> new java.util.ArrayList<>()).add(address);
            return address;
        }

        @Override
        public List<String> addresses(String vm) {
            return added.getOrDefault(vm, List.of());
        }
    }

    private String createWithQmp(String name, String qmp) {
        return create(name, "--qmp", qmp);
    }

    @Test
    void qmpServesTheNewVmOrTheVmIsNotCreated() throws Exception {
        assertEquals(VmCommands.NO_QMP, error(() -> createWithQmp("a", "unix:/tmp/a.qmp")));
        assertTrue(vms.get("a").isEmpty(), "no VM without its QMP");
        assertEquals(VmCommands.NO_QMP, error(() -> commands.qmp_add("unix:/tmp/a.qmp")));
        Qmp qmp = new Qmp();
        commands.qmp = qmp;
        assertEquals("cannot listen on unix:/taken: Address already in use (VM a not created)",
                error(() -> createWithQmp("a", "unix:/taken")));
        assertTrue(vms.get("a").isEmpty(), "a VM whose QMP cannot listen is not created");
        assertEquals("created VM a: 128 MiB, 1 vCPU, synthetic idle, tracker pml, running\nQMP on unix:/tmp/a.qmp",
                createWithQmp("a", "unix:/tmp/a.qmp"));
        assertEquals("QMP on tcp:127.0.0.1:4445", commands.qmp_add("tcp:127.0.0.1:4445"));
        assertEquals(List.of("unix:/tmp/a.qmp", "tcp:127.0.0.1:4445"), qmp.addresses("a"));
    }

    @Test
    void createPrintsOneLineWithTheDefaults() {
        assertEquals("created VM a: 128 MiB, 1 vCPU, synthetic idle, tracker pml, running", create("a"));
    }

    @Test
    void createTakesTheOptions() {
        assertEquals("created VM a: 2 GiB, 2 vCPUs, synthetic sweep, tracker pml, running",
                create("a", "--memory", "2G", "--vcpus", "2", "--workload", "sweep", "--dirty-tracker", "pml"));
        assertEquals("created VM b: 64 MiB, 1 vCPU, synthetic fill, tracker bitmap, prelaunch",
                commands.vm_create(true, false, "b", "--memory", "64", "--workload", "fill", "--dirty-tracker", "bitmap",
                        "--mem-path", "ram-b.img"));
        Path memPath = vms.vm("b").spec().memPath();
        assertTrue(memPath.isAbsolute() && memPath.endsWith("ram-b.img"), memPath.toString());
        assertTrue(vms.vm("b").spec().startPaused());
    }

    @Test
    void createRefusesBadInputWithOneLine() {
        assertEquals("invalid size '12X': use a number with K, M, G or T (a bare number is MiB)",
                error(() -> create("a", "--memory", "12X", "--dirty-tracker", "bitmap")));
        assertEquals("invalid vCPU count 'two': use a whole number from 1 to 64",
                error(() -> create("a", "--memory", "1G", "--vcpus", "two", "--dirty-tracker", "bitmap")));
        assertEquals("vcpus must be between 1 and 64: 65",
                error(() -> create("a", "--memory", "1G", "--vcpus", "65", "--dirty-tracker", "bitmap")));
        assertEquals("unknown CPU backend 'riscv': installed are synthetic",
                error(() -> create("a", "--memory", "1G", "--cpu", "riscv", "--dirty-tracker", "bitmap")));
        assertEquals("unknown dirty tracker 'wp': installed are bitmap, pml",
                error(() -> create("a", "--memory", "1G", "--dirty-tracker", "wp")));
        assertEquals("vm_create needs a NAME for the VM", error(() -> create(null)));
        assertEquals("vm_create needs a NAME for the VM",
                error(() -> create("--memory", "1G", "--dirty-tracker", "bitmap")));
        assertEquals("unknown option '--bogus' for vm_create (see help vm_create)",
                error(() -> create("a", "--bogus", "--memory", "1G", "--dirty-tracker", "bitmap")));
        assertTrue(vms.list().isEmpty());
    }

    @Test
    void createPassesTheKernelsRefusalsThrough() {
        create("a");
        assertEquals("a VM named 'a' already exists", error(() -> create("a")));
        assertEquals("cannot map 34359738368 bytes: the host has 16 GiB",
                error(() -> create("b", "--memory", "32G", "--dirty-tracker", "bitmap")));
        assertEquals("unknown workload 'spin'",
                error(() -> create("b", "--memory", "1G", "--workload", "spin", "--dirty-tracker", "bitmap")));
        assertTrue(error(() -> create("bad/name")).startsWith("bad VM name 'bad/name'"));
    }

    @Test
    void listIsATableWithNumbersRightAligned() {
        assertEquals("no VMs", commands.vm_list());
        create("a", "--memory", "2G", "--vcpus", "2", "--workload", "sweep", "--dirty-tracker", "bitmap");
        commands.vm_create(true, false, "bee", "--memory", "128", "--vcpus", "12", "--dirty-tracker", "bitmap");
        assertEquals(String.join("\n",
                        "NAME  STATE       MEMORY  VCPUS  CPU        WORKLOAD  TRACKER",
                        "a     running      2 GiB      2  synthetic  sweep     bitmap",
                        "bee   prelaunch  128 MiB     12  synthetic  idle      bitmap"),
                commands.vm_list());
    }

    @Test
    void stopContAndDestroy() throws Exception {
        create("a");
        commands.stop();
        assertEquals(RunState.PAUSED, vms.vm("a").state());
        commands.cont("a");
        assertEquals(RunState.RUNNING, vms.vm("a").state());
        vms.vm("a").state = RunState.GUEST_ERROR;
        assertEquals("VM a stopped on a guest error: reset it first", error(() -> commands.cont()));
        assertEquals("vm_destroy needs the NAME of the VM to destroy", error(() -> commands.vm_destroy()));
        assertEquals("no VM named 'b' (VMs: a)", error(() -> commands.vm_destroy("b")));
        assertEquals("destroyed VM a", commands.vm_destroy("a"));
        assertEquals("no VM on this host: create one with vm_create", error(() -> commands.stop()));
    }

    @Test
    void checkRefusesARunningVm() {
        create("a");
        assertEquals("VM a is running: stop it first (stop a)", error(() -> commands.vm_check()));
    }

    @Test
    void checkOfACleanVmPrintsTheVerdict() throws Exception {
        create("a");
        commands.stop("a");
        assertEquals(String.join("\n",
                        "pages checked: 32",
                        "bad pages:     0",
                        "summary:       32 pages, 1 range, one edge"),
                commands.vm_check("a"));
    }

    @Test
    void checkFailsOnBadPagesAfterPrintingThem() throws Exception {
        create("a");
        commands.stop();
        vms.vm("a").verdict = new OracleVerdict(32, 2, List.of("0x3000: expected 5, found 3", "0x7000: expected 5,"
                + " found 0"), "32 pages, 1 range, 3 edges");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        String message;
        try {
            message = assertThrows(IllegalStateException.class, () -> commands.vm_check()).getMessage();
        } finally {
            System.setOut(stdout);
        }
        assertEquals("VM a failed its check: 2 bad pages of 32", message);
        assertEquals(String.join("\n",
                        "pages checked: 32",
                        "bad pages:     2",
                        "summary:       32 pages, 1 range, 3 edges",
                        "examples:",
                        "  0x3000: expected 5, found 3",
                        "  0x7000: expected 5, found 0",
                        ""),
                printed.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }

    /** Gogo's help renders @Descriptor; a command or parameter without one shows up bare. */
    @Test
    void everyCommandAndParameterHasHelp() {
        for (Class<?> c : List.of(VmCommands.class, InfoCommand.class, HostCommands.class, MigrationCommands.class)) {
            List<Method> methods = Arrays.stream(c.getDeclaredMethods())
                    .filter(m -> java.lang.reflect.Modifier.isPublic(m.getModifiers()))
                    .toList();
            assertFalse(methods.isEmpty());
            for (Method m : methods) {
                assertNotNull(m.getAnnotation(Descriptor.class), m.toString());
                for (java.lang.reflect.Parameter p : m.getParameters()) {
                    assertNotNull(p.getAnnotation(Descriptor.class), m + " " + p);
                }
            }
        }
    }
}
