package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.vm.VmManager;
import java.util.List;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The migration commands, by QEMU's HMP names, over {@link MigrationService}. They exist exactly
 * while the migration service does (the coordinator bundle); the VM commands do not need it.
 *
 * <p>Commands that act on a VM take an optional NAME first, as the VM commands do: with one VM on
 * the host it may be left out. NAME is recognised by the number of arguments, and, for commands
 * whose last argument is optional, by naming an existing VM ({@link VmArgs#withOptionalName}).
 */
@Component(
        service = MigrationCommands.class,
        property = {
            "osgi.command.scope=godwit",
            "osgi.command.function=migrate",
            "osgi.command.function=migrate_incoming",
            "osgi.command.function=migrate_cancel",
            "osgi.command.function=migrate_continue",
            "osgi.command.function=migrate_start_postcopy",
            "osgi.command.function=migrate_recover",
            "osgi.command.function=migrate_pause",
            "osgi.command.function=migrate_set_capability",
            "osgi.command.function=migrate_set_parameter"
        })
public final class MigrationCommands {

    static final String MIGRATE_USAGE = "migrate [-d] [NAME] URI";

    private final VmManager vms;
    private final MigrationService migration;
    private final MigrationWatch.Sleeper sleeper;
    private volatile boolean deactivated;

    @Activate
    public MigrationCommands(@Reference VmManager vms, @Reference MigrationService migration) {
        this(vms, migration, Thread::sleep);
    }

    MigrationCommands(VmManager vms, MigrationService migration, MigrationWatch.Sleeper sleeper) {
        this.vms = vms;
        this.migration = migration;
        this.sleeper = sleeper;
    }

    @Deactivate
    void deactivate() {
        deactivated = true; // a waiting migrate stops polling the service that is going away
    }

    @Descriptor("send a running VM to another host (QEMU's migrate): migrate [-d] [-r] [--copy-storage] [--report FILE.html] [NAME] URI"
            + " (--report writes the page of info migrate --report when the migration ends, failed or not)"
            + " (--copy-storage also sends the disks, pass after pass, to a destination with its own images;"
            + " -r resumes a postcopy paused by a broken channel, to where migrate_recover listens)."
            + " Without -d it waits:"
            + " on a terminal a progress bar shows how much of the RAM is already current at the destination,"
            + " otherwise one line per pass; then it prints the statistics (as info migrate) and fails if the"
            + " migration failed or was cancelled. Ctrl-C (or a monitor client that goes away) cancels the"
            + " migration; use -d for one that outlives the command")
    public String migrate(
            @Descriptor("command session") CommandSession session,
            @Descriptor("detach: start the migration and return at once; follow it with info migrate,"
                            + " stop it with migrate_cancel")
                    @Parameter(names = {"-d", "--detach"}, presentValue = "true", absentValue = "false")
                    boolean detach,
            @Descriptor("[NAME] URI: the VM (may be left out when the host has one VM) and the destination,"
                            + " e.g. tcp:10.0.0.2:4444 or unix:/tmp/b.sock, where the destination VM waits"
                            + " (vm_create --incoming)")
                    String... args) {
        return migrate(Tty.of(session), detach, args);
    }

    String migrate(Tty tty, boolean detach, String... args) {
        OptionArgs options = new OptionArgs("migrate", args);
        // --report FILE: the page of info migrate --report, written when the migration ends.
        String reportFile = MigrateInfo.reportOption(options);
        if (reportFile != null && detach) {
            throw new IllegalArgumentException("migrate -d returns before the migration ends, so it cannot write"
                    + " --report: leave out -d, or run info migrate NAME --report FILE once it has ended");
        }
        // --copy-storage: libvirt's --copy-storage-all.
        boolean copyStorage = options.flag("--copy-storage");
        // -r (QEMU's migrate -r, resume=true): a paused postcopy connects again.
        boolean resume = options.flag("-r", "--resume");
        args = options.rest();
        VmArgs.Named n = VmArgs.withOptionalName(vms, "migrate", MIGRATE_USAGE, 1, 1, args);
        String vm = n.vm().name();
        String uri = n.rest().getFirst();
        if (!uri.contains(":") && vms.get(uri).isPresent()) {
            throw new IllegalArgumentException("migrate needs a URI after the VM name, e.g. migrate " + uri
                    + " tcp:HOST:PORT (usage: " + MIGRATE_USAGE + ")");
        }
        if (copyStorage) {
            call(() -> migration.setCapability(vm, io.godwit.api.migration.MigrationCapability.COPY_STORAGE, true));
        }
        if (resume) {
            call(() -> migration.resumePostcopy(vm, uri));
        } else {
            call(() -> migration.migrate(vm, uri));
        }
        if (detach) {
            return "migrating VM " + vm + " to " + uri + ": follow it with info migrate " + vm
                    + ", stop it with migrate_cancel " + vm;
        }
        MigrationInfo end = new MigrationWatch(migration, vm, tty, sleeper, () -> deactivated).await();
        String report = MigrateInfo.withTls(MigrationReport.info(end), migration.tls(vm));
        if (reportFile != null) {
            report += "\n" + reportAtEnd(java.nio.file.Path.of(reportFile), vm, end);
        }
        if (end.status() == MigrationStatus.COMPLETED) {
            return report;
        }
        // As vm_check: the details on stdout, then one line that makes the command (and a script) fail.
        tty.out().println(report);
        tty.out().flush();
        throw new IllegalStateException(switch (end.status()) {
            case CANCELLED -> "migration cancelled";
            case FAILED -> "migration failed: " + (end.error() != null ? end.error() : "no reason given");
            default -> "migration ended in state " + end.status();
        });
    }

    /**
     * The page of the migration that just ended, failed and cancelled ones too; a page that cannot be
     * written is one line after the statistics, not a failed migrate (the VM is where it went).
     */
    private String reportAtEnd(java.nio.file.Path file, String vm, MigrationInfo end) {
        io.godwit.api.migration.MigrationHistory history = migration.history(vm);
        if (!MigrateInfo.reportable(history)) {
            return "report: not written, the migration ended before its first pass";
        }
        try {
            return MigrateInfo.writeReport(file, vm, end, history);
        } catch (java.io.IOException | RuntimeException e) {
            return "report: not written: " + e.getMessage();
        }
    }

    @Descriptor("make a VM created with vm_create --incoming defer wait for its source on URI (QEMU's"
            + " migrate_incoming); prints the address it listens on, with a port 0 resolved")
    public String migrate_incoming(
            @Descriptor("[NAME] URI: the VM (may be left out when the host has one VM) and where to listen, e.g."
                            + " tcp:0.0.0.0:4444, tcp:127.0.0.1:0 (any free port) or unix:/tmp/b.sock")
                    String... args) {
        VmArgs.Named n = VmArgs.withOptionalName(vms, "migrate_incoming", "migrate_incoming [NAME] URI", 1, 1, args);
        String vm = n.vm().name();
        String uri = n.rest().getFirst();
        call(() -> migration.incoming(vm, uri));
        return listening(migration.info(vm), uri);
    }

    /** {@code listening on tcp:127.0.0.1:41234}: the address the service reports, else the one asked for. */
    static String listening(MigrationInfo info, String asked) {
        return "listening on " + (info.listenUri() != null ? info.listenUri() : asked);
    }

    @Descriptor("cancel a VM's migration (QEMU's migrate_cancel): the source VM keeps running; refused once"
            + " the switchover has passed the point of no return")
    public String migrate_cancel(@Descriptor(VmCommands.NAME_HELP) String... name) throws InterruptedException {
        String vm = VmArgs.resolve(vms, "migrate_cancel", name).name();
        MigrationStatus before = migration.info(vm).status();
        if (before.isFinal()) {
            return "VM " + vm + " has no migration running (" + before + ")";
        }
        call(() -> migration.cancel(vm));
        MigrationStatus after = migration.info(vm).status();
        // An incoming migration fails a moment later (its thread notices the closed channel).
        for (long waited = 0; !stopped(after) && waited < 1000; waited += 50) {
            sleeper.sleep(50);
            after = migration.info(vm).status();
        }
        if (!stopped(after) || after == MigrationStatus.COMPLETED) {
            throw new IllegalStateException("too late to cancel the migration of VM " + vm + ": it is "
                    + (after == MigrationStatus.COMPLETED ? "completed" : "in " + after + ", past the point of no return"));
        }
        return null;
    }

    private static boolean stopped(MigrationStatus s) {
        return s.isFinal() || s == MigrationStatus.CANCELLING;
    }

    @Descriptor("switch a VM's running precopy to postcopy (QEMU's migrate_start_postcopy): the source stops"
            + " the guest, the destination runs it at once and faults in the pages it has not received; needs"
            + " capability postcopy-ram on both hosts before the migration starts")
    public void migrate_start_postcopy(@Descriptor(VmCommands.NAME_HELP) String... name) {
        String vm = VmArgs.resolve(vms, "migrate_start_postcopy", name).name();
        call(() -> migration.startPostcopy(vm));
    }

    @Descriptor("break a postcopy's channel on purpose (QEMU's migrate_pause), on either host: both sides go to"
            + " postcopy-paused and keep everything; go on with migrate_recover URI on the destination and"
            + " migrate -r URI on the source (to move the migration to another network, say)")
    public void migrate_pause(@Descriptor(VmCommands.NAME_HELP) String... name) {
        String vm = VmArgs.resolve(vms, "migrate_pause", name).name();
        call(() -> migration.pausePostcopy(vm));
    }

    @Descriptor("resume a postcopy that is paused because its channel broke (QEMU's migrate_recover), on the"
            + " destination: listen on a new URI; then run migrate -r URI on the source. Only the pages the"
            + " destination still misses are sent")
    public String migrate_recover(
            @Descriptor("[NAME] URI: the VM (may be left out when the host has one VM) and where to listen")
                    String... args) {
        VmArgs.Named n = VmArgs.withOptionalName(vms, "migrate_recover", "migrate_recover [NAME] URI", 1, 1, args);
        String vm = n.vm().name();
        String uri = n.rest().getFirst();
        call(() -> migration.recoverPostcopy(vm, uri));
        return listening(migration.info(vm), uri);
    }

    @Descriptor("let a migration paused in pre-switchover (capability pause-before-switchover) go on to the"
            + " switchover (QEMU's migrate_continue)")
    public void migrate_continue(
            @Descriptor("[NAME] [STATE]: the VM (may be left out when the host has one VM) and, as QEMU takes it,"
                            + " the state to leave: pre-switchover (the only one)")
                    String... args) {
        VmArgs.Named n = VmArgs.withOptionalName(vms, "migrate_continue", "migrate_continue [NAME] [pre-switchover]",
                0, 1, args);
        if (!n.rest().isEmpty() && !n.rest().getFirst().equals(MigrationStatus.PRE_SWITCHOVER.qemuName())) {
            throw new IllegalArgumentException("migrate_continue leaves pre-switchover only, not '"
                    + n.rest().getFirst() + "'");
        }
        call(() -> migration.continueMigration(n.vm().name()));
    }

    @Descriptor("turn a migration capability on or off for a VM's next migration (QEMU's"
            + " migrate_set_capability); info migrate_capabilities lists them")
    public void migrate_set_capability(
            @Descriptor("[NAME] CAPABILITY on|off: the VM (may be left out when the host has one VM), one of "
                            + MigrationSettings.CAPABILITIES + ", and on or off")
                    String... args) {
        VmArgs.Named n = VmArgs.withOptionalName(vms, "migrate_set_capability",
                "migrate_set_capability [NAME] CAPABILITY on|off", 2, 2, args);
        List<String> rest = n.rest();
        MigrationCapability capability = MigrationSettings.capability(rest.get(0));
        boolean on = MigrationSettings.onOff(rest.get(1));
        call(() -> migration.setCapability(n.vm().name(), capability, on));
    }

    @Descriptor("set a migration parameter of a VM (QEMU's migrate_set_parameter): downtime-limit in ms"
            + " (default 300); max-bandwidth in bytes/s with a suffix K, M, G, where a bare number is MiB/s as"
            + " in QEMU and 0 means unlimited (the default); cpu-throttle-initial, cpu-throttle-increment and"
            + " max-cpu-throttle in percent; tls-creds, tls-hostname and tls-authz take an object id or name"
            + " (\"\" unsets; docs/tls.md). info migrate_parameters shows them")
    public void migrate_set_parameter(
            @Descriptor("[NAME] PARAMETER VALUE: the VM (may be left out when the host has one VM), one of "
                            + MigrationSettings.PARAMETERS + ", and its value, e.g. downtime-limit 100 or"
                            + " max-bandwidth 100M")
                    String... args) {
        VmArgs.Named n = VmArgs.withOptionalName(vms, "migrate_set_parameter",
                "migrate_set_parameter [NAME] PARAMETER VALUE", 2, 2, args);
        List<String> rest = n.rest();
        var text = io.godwit.api.migration.MigrationTextParameter.byName(rest.get(0));
        if (text.isPresent()) {
            call(() -> migration.setParameter(n.vm().name(), text.get(), rest.get(1)));
            return;
        }
        MigrationParameter parameter = MigrationSettings.parameter(rest.get(0));
        long value = MigrationSettings.parse(parameter, rest.get(1));
        call(() -> migration.setParameter(n.vm().name(), parameter, value));
    }

    /**
     * Runs a service call and keeps its message whole: the console, {@code -c} and the monitor
     * print the deepest cause's message, so {@code cannot listen on tcp:...: Address already in
     * use} would lose its first half. The exception keeps its kind; the original is suppressed.
     */
    static void call(Runnable serviceCall) {
        try {
            serviceCall.run();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw e.getCause() == null || e.getMessage() == null ? e : withMessage(e, e.getMessage());
        }
    }

    /** An exception of the same kind (argument or state) with this message and no cause. */
    static RuntimeException withMessage(RuntimeException e, String message) {
        RuntimeException whole = e instanceof IllegalArgumentException
                ? new IllegalArgumentException(message)
                : new IllegalStateException(message);
        whole.addSuppressed(e);
        return whole;
    }
}
