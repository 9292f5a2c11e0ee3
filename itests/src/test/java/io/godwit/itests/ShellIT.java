package io.godwit.itests;

import static io.godwit.itests.Guests.awaitEachVcpuPast;
import static io.godwit.itests.Guests.pageLabel;
import static io.godwit.itests.Guests.poke;
import static io.godwit.itests.Guests.progress;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSessionListener;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/** The godwit Gogo commands through a real CommandProcessor session, checked against the kernel and the oracle. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShellIT extends GodwitTestSupport {

    private static final List<String> COMMANDS =
            List.of("vm_create", "vm_list", "vm_destroy", "stop", "cont", "info", "sleep", "vm_check");

    @Inject
    private CommandProcessor processor;

    @Inject
    private VmManager vms;

    @Inject
    private BundleContext context;

    private Shell shell;

    @Configuration
    public Option[] config() {
        return baseOptions();
    }

    @Before
    public void openShell() throws Exception {
        Guests.await(this::commandsRegistered, 10_000, "the godwit commands " + COMMANDS + " and their scope listener");
        shell = new Shell(processor);
    }

    @After
    public void closeShell() throws InterruptedException {
        shell.close();
        Guests.destroyAll(vms);
    }

    /** True once every command of scope godwit is a service, and the listener that puts godwit first in SCOPE. */
    private boolean commandsRegistered() {
        try {
            Set<String> functions = new HashSet<>();
            ServiceReference<?>[] refs = context.getServiceReferences((String) null, "(osgi.command.scope=godwit)");
            for (ServiceReference<?> ref : refs == null ? new ServiceReference<?>[0] : refs) {
                Object f = ref.getProperty("osgi.command.function");
                if (f instanceof String[] names) {
                    functions.addAll(List.of(names));
                } else if (f != null) {
                    functions.add(f.toString());
                }
            }
            return functions.containsAll(COMMANDS)
                    && context.getServiceReference(CommandSessionListener.class) != null;
        } catch (InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    public void createInspectStopCheckAndDestroyAVm() throws Exception {
        String created = shell.run("vm_create a --memory 64M --vcpus 2 --workload sweep");
        assertTrue(created, created.startsWith("created VM a: 64 MiB, 2 vCPUs, synthetic sweep"));
        Vm vm = vms.get("a").orElseThrow();
        assertEquals(RunState.RUNNING, vm.state());
        assertEquals(64L << 20, vm.memory().size());
        assertEquals(2, vm.cpus().size());

        String list = shell.run("info vms");
        assertTrue(list, Pattern.compile("(?m)^a\\s+running\\s+" + vm.uuid() + "\\s+-\\s+sweep over 64 MiB in 2 ranges$")
                .matcher(list).find());
        assertEquals("VM status: running", shell.run("info status"));

        long t0 = System.nanoTime();
        shell.run("sleep 0.5");
        long sleptMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue("slept " + sleptMillis + " ms", sleptMillis >= 450 && sleptMillis < 5000);
        awaitEachVcpuPast(vm, 8192, 60_000); // each of the 2 ranges of 8192 pages swept at least once

        assertEquals("", shell.run("stop"));
        assertEquals(RunState.PAUSED, vm.state());
        assertEquals("VM status: paused", shell.run("info status a"));
        String cpus = shell.run("info cpus");
        for (VcpuInfo cpu : vm.cpus()) { // stopped, so the shell and the API must agree exactly
            assertTrue(cpus, Pattern.compile("(?m)^\\s*" + cpu.index() + "\\s+vcpu-a-" + cpu.index() + "\\s.*\\s"
                    + cpu.progress() + "\\s.*writes\\s*$").matcher(cpus).find());
        }

        String check = shell.run("vm_check a");
        assertTrue(check, check.contains("pages checked: 16384"));
        assertTrue(check, Pattern.compile("bad pages:\\s+0\\b").matcher(check).find());
        assertTrue(vm.check().clean());

        long stopped = progress(vm);
        shell.run("cont a");
        assertEquals("VM status: running", shell.run("info status"));
        Guests.await(() -> progress(vm) > stopped, 30_000, "progress after cont");

        assertEquals("destroyed VM a", shell.run("vm_destroy a"));
        assertTrue(vms.list().isEmpty());
        assertEquals("no VMs", shell.run("vm_list"));
    }

    @Test
    public void vmCheckFailsWhenAPageIsCorrupted() throws Exception {
        shell.run("vm_create b --memory 32M --workload sweep");
        Vm vm = vms.get("b").orElseThrow();
        awaitEachVcpuPast(vm, 2 * 8192, 60_000);
        shell.run("stop b");
        String clean = shell.run("vm_check b");
        assertTrue(clean, Pattern.compile("bad pages:\\s+0\\b").matcher(clean).find());

        poke(vm, 777, 9, (byte) 1); // garbage after the first byte, through the raw path
        Exception e = shell.fail("vm_check b");
        assertEquals("VM b failed its check: 1 bad pages of 8192", e.getMessage());
        String report = shell.printed();
        assertTrue(report, Pattern.compile("bad pages:\\s+1\\b").matcher(report).find());
        assertTrue(report, report.contains(pageLabel(777)));
        assertEquals(RunState.PAUSED, vm.state());
    }

    @Test
    public void badInputIsAClearErrorAndTheHostCarriesOn() throws Exception {
        shell.run("vm_create a --memory 32M --workload sweep");
        Vm a = vms.get("a").orElseThrow();

        assertError("vm_create c --bogus 1", "unknown option '--bogus'");
        assertError("vm_create c --memory 12X", "invalid size '12X'");
        // Gogo's own refusal was "Cannot coerce vm_create(Token, Token) to any of [...]", also in the console.
        assertError("vm_create c --memory", "vm_create --memory needs a SIZE, e.g. vm_create a --memory 2G");
        assertError("vm_create a --memory 16M", "a VM named 'a' already exists");
        assertError("vm_create c --workload nope", "unknown workload 'nope'");
        assertError("vm_create c --memory 100T", "cannot allocate");
        assertError("stop nope", "no VM named 'nope'");

        assertEquals("failed creates leave nothing behind", List.of(a), vms.list());
        assertEquals(RunState.RUNNING, a.state());
        long before = progress(a);
        Guests.await(() -> progress(a) > before, 30_000, "VM a still running after the errors");

        String created = shell.run("vm_create c --memory 16M --vcpus 2 --workload sweep");
        assertTrue(created, created.startsWith("created VM c: 16 MiB, 2 vCPUs"));
        Vm c = vms.get("c").orElseThrow();
        awaitEachVcpuPast(c, 2048, 60_000);
        shell.run("stop a");
        shell.run("stop c");
        assertTrue(a.check().toString(), a.check().clean());
        String check = shell.run("vm_check c");
        assertTrue(check, check.contains("pages checked: 4096"));
        assertTrue(check, Pattern.compile("bad pages:\\s+0\\b").matcher(check).find());
    }

    /**
     * QMP in Felix with the real services: the qmp bundle's server answers over tcp, reaches the
     * coordinator (which binds QMP's migration listener: no DS cycle between the two) and Gogo.
     */
    @Test
    public void qmpServesAVmThroughTheRealServices() throws Exception {
        String created = shell.run("vm_create q --memory 16M --qmp tcp:127.0.0.1:0");
        java.util.regex.Matcher port = Pattern.compile("QMP on tcp:127\\.0\\.0\\.1:(\\d+)").matcher(created);
        assertTrue(created, port.find());
        assertTrue(shell.run("info vms"), shell.run("info vms").contains("tcp:127.0.0.1:" + port.group(1)));
        ServiceReference<?>[] listeners = context.getServiceReferences(
                io.godwit.api.migration.MigrationListener.class.getName(), null);
        assertTrue("the qmp bundle registers a migration listener", listeners != null && java.util.Arrays.stream(listeners)
                .anyMatch(r -> r.getBundle().getSymbolicName().equals("io.godwit.qmp")));
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", Integer.parseInt(port.group(1)))) {
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            java.io.OutputStream out = socket.getOutputStream();
            assertTrue(in.readLine().startsWith("{\"QMP\":{\"version\":{\"qemu\":"));
            out.write(("{\"execute\":\"qmp_capabilities\"}\n"
                    + "{\"execute\":\"query-migrate-capabilities\"}\n"
                    + "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"vm_list\"}}\n"
                    + "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"vm_create r --vcpus\"}}\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertEquals("{\"return\":{}}", in.readLine());
            String caps = in.readLine();
            assertTrue(caps, caps.startsWith("{\"return\":[{\"capability\":\"events\",\"state\":false}"));
            String hmp = in.readLine();
            assertTrue(hmp, hmp.startsWith("{\"return\":\"NAME") && hmp.contains("\\nq "));
            assertEquals("{\"return\":\"Error: vm_create --vcpus needs a number of vCPUs, e.g. vm_create a --vcpus 2\\n\"}",
                    in.readLine());
        }
        assertEquals("destroyed VM q", shell.run("vm_destroy q"));
    }

    private void assertError(String line, String expected) {
        Exception e = shell.fail(line);
        String message = String.valueOf(e.getMessage());
        assertTrue(line + " -> " + e, e instanceof IllegalArgumentException);
        assertTrue(line + " -> " + message, message.contains(expected));
        assertFalse(line + " -> one line: " + message, message.contains("\n"));
    }
}
