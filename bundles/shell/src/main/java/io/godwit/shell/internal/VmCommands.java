package io.godwit.shell.internal;

import static io.godwit.shell.internal.VmCreateArgs.Option.CPU;
import static io.godwit.shell.internal.VmCreateArgs.Option.INCOMING;
import static io.godwit.shell.internal.VmCreateArgs.Option.MEMORY;
import static io.godwit.shell.internal.VmCreateArgs.Option.MEM_PATH;
import static io.godwit.shell.internal.VmCreateArgs.Option.QMP;
import static io.godwit.shell.internal.VmCreateArgs.Option.TRACKER;
import static io.godwit.shell.internal.VmCreateArgs.Option.VCPUS;
import static io.godwit.shell.internal.VmCreateArgs.Option.WORKLOAD;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import io.godwit.api.vm.VmSpec;
import io.godwit.api.qmp.QmpServers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The VM lifecycle commands. A thin human layer over {@link VmManager}: parse, call, print one line.
 * Results are returned as Strings without a trailing newline (the console, the {@code -c} launcher
 * and the monitor each end the printed result with one); errors are exceptions with a one-line
 * message, which they print as {@code Error: <message>}.
 */
@Component(
        service = VmCommands.class,
        property = {
            "osgi.command.scope=godwit",
            "osgi.command.function=vm_create",
            "osgi.command.function=vm_list",
            "osgi.command.function=vm_destroy",
            "osgi.command.function=stop",
            "osgi.command.function=cont",
            "osgi.command.function=vm_check",
            "osgi.command.function=qmp_add"
        })
public final class VmCommands {

    static final String NAME_HELP = "VM name; may be left out when the host has exactly one VM";

    /** QEMU's {@code -incoming defer}: wait for {@code migrate_incoming} to say where to listen. */
    static final String DEFER = "defer";

    private final VmManager vms;

    /** Only {@code vm_create --incoming URI} needs it; the other commands work without the coordinator. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile MigrationService migration;

    /** Only {@code --qmp} and {@code qmp_add} need it (the godwit-qmp bundle). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile QmpServers qmp;

    @Activate
    public VmCommands(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Descriptor("create a VM and start it (unless --paused or --incoming): vm_create NAME [options] [--paused]"
            + " [--mem-prealloc]; with --incoming URI and none of --memory, --vcpus, --cpu, --workload, --device, the"
            + " VM is made from the source's hello when it connects (--device-map ID=PATH gives a device's disk image"
            + " on this host)")
    public String vm_create(
            @Descriptor("create with the vCPUs parked (QEMU's -S); start them with cont")
                    @Parameter(names = {"--paused", "-S"}, presentValue = "true", absentValue = "false")
                    boolean paused,
            @Descriptor("fault all of RAM in now (QEMU's -mem-prealloc): slower to create, but first writes do not"
                            + " pay for page faults, e.g. on a migration's destination")
                    @Parameter(names = "--mem-prealloc", presentValue = "true", absentValue = "false")
                    boolean prealloc,
            // The options with a value are ours (VmCreateArgs), not Gogo's: see OptionArgs.
            @Descriptor(VmCreateArgs.HELP) String... args) {
        VmCreateArgs a = VmCreateArgs.parse(args);
        String vmName = a.name();
        String incomingUri = a.get(INCOMING, "").strip();
        String qmpAddress = a.get(QMP, "");
        MigrationService service = migration;
        QmpServers qmpServers = qmp;
        if (!qmpAddress.isBlank() && qmpServers == null) {
            throw new IllegalStateException(NO_QMP);
        }
        if (!incomingUri.isEmpty() && !incomingUri.equals(DEFER) && service == null) {
            throw new IllegalStateException("--incoming " + incomingUri + " needs the migration service, which is not"
                    + " running (is the godwit-coordinator bundle started?)");
        }
        // No shape given with a URI: the shape comes from the source's hello (as Cloud Hypervisor's).
        boolean fromStream = !a.has(MEMORY) && !a.has(VCPUS) && !a.has(CPU) && !a.has(WORKLOAD)
                && a.devices().isEmpty() && !incomingUri.isEmpty() && !incomingUri.equals(DEFER);
        if (!fromStream && !a.maps().isEmpty()) {
            throw new IllegalArgumentException("--device-map is for a VM made from the source's hello: vm_create NAME"
                    + " --incoming URI without --memory, --vcpus, --cpu, --workload or --device");
        }
        VmSpec.Builder spec = VmSpec.builder(vmName)
                .memory(Sizes.parse(a.get(MEMORY, "128M")))
                .vcpus(parseVcpus(a.get(VCPUS, "1")))
                .cpu(known("CPU backend", a.get(CPU, VmSpec.DEFAULT_CPU).strip(), vms.cpuBackends()))
                .workload(a.get(WORKLOAD, VmSpec.DEFAULT_WORKLOAD))
                .paused(paused)
                .prealloc(prealloc);
        if (a.has(TRACKER)) {
            spec.dirtyTracker(known("dirty tracker", a.get(TRACKER, "").strip(), vms.dirtyTrackers()));
        }
        if (!incomingUri.isEmpty()) {
            spec.incoming(incomingUri);
        }
        for (String d : a.devices()) {
            known("device type", d.split(",", 2)[0].strip(), vms.deviceTypes());
            spec.device(d);
        }
        if (a.has(MEM_PATH)) {
            spec.memPath(Path.of(a.get(MEM_PATH, "")).toAbsolutePath());
        }
        if (vms.get(vmName).isPresent()) {
            throw new IllegalArgumentException("a VM named '" + vmName + "' already exists");
        }
        if (fromStream) {
            return incomingFromStream(service, spec.build(), a.maps(), qmpAddress);
        }
        Vm vm = vms.create(spec.build());
        VmSpec s = vm.spec();
        String created = "created VM " + vm.name() + ": " + Sizes.format(s.memoryBytes())
                + (s.prealloc() ? " preallocated, " : ", ") + s.vcpus()
                + (s.vcpus() == 1 ? " vCPU, " : " vCPUs, ") + s.cpuBackend() + " " + s.workload()
                + ", tracker " + vm.dirtyLogging().trackerName()
                + (vm.devices().isEmpty() ? "" : ", devices " + vm.devices().stream()
                        .map(d -> d.id() + " " + d.type()).collect(java.util.stream.Collectors.joining(", ")))
                + ", " + vm.state();
        if (!qmpAddress.isBlank()) {
            created += "\n" + serveQmp(qmpServers, vm.name(), qmpAddress.strip());
        }
        if (incomingUri.isEmpty() || incomingUri.equals(DEFER)) {
            return created;
        }
        return created + "\n" + listen(service, vm.name(), incomingUri);
    }

    static final String NO_QMP = "QMP needs the godwit-qmp bundle, which is not running";

    /** The VM is made when the source's hello arrives; until then only the migration knows its name. */
    private static String incomingFromStream(MigrationService service, VmSpec local, java.util.Map<String, String> maps,
            String qmpAddress) {
        if (!qmpAddress.isBlank()) {
            throw new IllegalArgumentException("--qmp needs the VM, which is made when the source connects: add QMP"
                    + " with qmp_add " + local.name() + " ADDRESS once the migration made it");
        }
        MigrationCommands.call(() -> service.incomingFromStream(local, maps, local.incoming()));
        return "VM " + local.name() + " is made from the source's hello when it connects; "
                + MigrationCommands.listening(service.info(local.name()), local.incoming());
    }

    /** As {@link #listen}: a VM whose QMP cannot listen is not created. */
    private String serveQmp(QmpServers servers, String vm, String address) {
        try {
            return "QMP on " + servers.add(vm, address);
        } catch (IOException | IllegalArgumentException e) {
            destroyQuietly(vm);
            throw new IllegalArgumentException(e.getMessage() + " (VM " + vm + " not created)", e);
        }
    }

    private void destroyQuietly(String vm) {
        try {
            vms.destroy(vm);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt(); // the VM is gone or going; the caller's error says why
        }
    }

    @Descriptor("serve QMP for a running VM on one more address (QEMU's -qmp): qmp_add [NAME] unix:PATH|tcp:HOST:PORT;"
            + " info vms shows where each VM's QMP listens")
    public String qmp_add(@Descriptor("[NAME] ADDRESS: the VM (may be left out when the host has one VM) and where to"
                    + " listen, e.g. unix:/run/user/1000/a.qmp or tcp:127.0.0.1:4445") String... args) throws IOException {
        QmpServers servers = qmp;
        if (servers == null) {
            throw new IllegalStateException(NO_QMP);
        }
        VmArgs.Named n = VmArgs.withOptionalName(vms, "qmp_add", "qmp_add [NAME] ADDRESS", 1, 1, args);
        return "QMP on " + servers.add(n.vm().name(), n.rest().getFirst());
    }

    /** QEMU's {@code -incoming URI}: a VM that cannot listen is not created. */
    private String listen(MigrationService service, String vm, String uri) {
        try {
            MigrationCommands.call(() -> service.incoming(vm, uri));
        } catch (IllegalArgumentException | IllegalStateException e) {
            destroyQuietly(vm);
            throw MigrationCommands.withMessage(e, e.getMessage() + " (VM " + vm + " not created)");
        }
        return MigrationCommands.listening(service.info(vm), uri);
    }

    @Descriptor("list the VMs of this host")
    public String vm_list() {
        if (vms.list().isEmpty()) {
            return "no VMs";
        }
        Table t = new Table("NAME", "STATE", "MEMORY", "VCPUS", "CPU", "WORKLOAD", "TRACKER").right(2, 3);
        for (Vm vm : vms.list()) {
            VmSpec s = vm.spec();
            t.add(vm.name(), vm.state(), Sizes.format(s.memoryBytes()), s.vcpus(), s.cpuBackend(), s.workload(),
                    vm.dirtyLogging().trackerName());
        }
        return t.toString();
    }

    @Descriptor("stop and destroy a VM and free its RAM")
    public String vm_destroy(@Descriptor("VM name (always required)") String... name) throws InterruptedException {
        String vmName = VmArgs.requiredName("vm_destroy", "the NAME of the VM to destroy", name);
        MigrationService service = migration;
        if (vms.get(vmName).isEmpty() && service != null && waitsForItsShape(service, vmName)) {
            service.cancel(vmName); // a destination still waiting for the hello it is made from
            return "destroyed VM " + vmName + " (it was still waiting for the source's hello)";
        }
        if (vms.get(vmName).isEmpty()) {
            throw new IllegalArgumentException(VmArgs.noSuchVm(vms, vmName));
        }
        vms.destroy(vmName);
        return "destroyed VM " + vmName;
    }

    private static boolean waitsForItsShape(MigrationService service, String name) {
        try {
            return service.info(name).status() != io.godwit.api.migration.MigrationStatus.NONE;
        } catch (IllegalArgumentException noSuchVm) {
            return false;
        }
    }

    @Descriptor("stop a VM's vCPUs (QEMU's stop)")
    public void stop(@Descriptor(NAME_HELP) String... name) throws InterruptedException {
        VmArgs.resolve(vms, "stop", name).stop(RunState.PAUSED);
    }

    @Descriptor("let a stopped VM run again (QEMU's cont)")
    public void cont(@Descriptor(NAME_HELP) String... name) {
        VmArgs.resolve(vms, "cont", name).cont();
    }

    @Descriptor("check a stopped VM's memory with its workload's oracle; fails when a page is bad")
    public String vm_check(@Descriptor(NAME_HELP) String... name) {
        Vm vm = VmArgs.resolve(vms, "vm_check", name);
        if (vm.state() == RunState.RUNNING) {
            throw new IllegalStateException("VM " + vm.name() + " is running: stop it first (stop " + vm.name() + ")");
        }
        OracleVerdict verdict = vm.check();
        String report = checkReport(verdict);
        if (verdict.clean()) {
            return report;
        }
        // The details go to the session's output; the exception then makes the command (and a
        // scripted run) fail with one line.
        System.out.println(report);
        System.out.flush();
        throw new IllegalStateException("VM " + vm.name() + " failed its check: " + verdict.badPages()
                + " bad pages of " + verdict.pagesChecked());
    }

    static String checkReport(OracleVerdict v) {
        StringBuilder out = new StringBuilder()
                .append("pages checked: ").append(v.pagesChecked()).append('\n')
                .append("bad pages:     ").append(v.badPages()).append('\n')
                .append("summary:       ").append(v.summary()).append('\n');
        if (!v.examples().isEmpty()) {
            out.append("examples:\n");
            v.examples().forEach(e -> out.append("  ").append(e).append('\n'));
        }
        return out.toString().stripTrailing();
    }

    private static int parseVcpus(String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid vCPU count '" + text + "': use a whole number from 1 to 64");
        }
    }

    private static String known(String what, String name, List<String> installed) {
        if (!installed.contains(name)) {
            throw new IllegalArgumentException("unknown " + what + " '" + name + "': installed "
                    + (installed.isEmpty() ? "are none" : "are " + String.join(", ", installed)));
        }
        return name;
    }
}
