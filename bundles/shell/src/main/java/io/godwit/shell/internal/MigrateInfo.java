package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationHistory;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.vm.VmManager;
import java.nio.file.Path;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code info migrate [NAME]}: the VM's migration, outgoing or incoming, with QEMU's fields. */
@Component(service = InfoSubject.class)
public final class MigrateInfo implements InfoSubject {

    private final VmManager vms;
    private final MigrationService migration;

    @Activate
    public MigrateInfo(@Reference VmManager vms, @Reference MigrationService migration) {
        this.vms = vms;
        this.migration = migration;
    }

    @Override
    public String name() {
        return "migrate";
    }

    @Override
    public String description() {
        return "info migrate [NAME] [--report FILE.html]: the migration's status, times and RAM counters (QEMU's"
                + " info migrate); --report also writes a page with charts of its passes and switchover";
    }

    @Override
    public Object show(String... args) throws java.io.IOException {
        OptionArgs options = new OptionArgs("info migrate", args);
        String report = reportOption(options);
        String[] left = options.rest();
        String named = VmArgs.optionalName("info migrate", left);
        if (named != null && vms.get(named).isEmpty()) {
            // a destination still waiting for the hello its VM is made from (or refused it)
            try {
                return MigrationReport.info(migration.info(named));
            } catch (IllegalArgumentException noSuchVm) {
                throw new IllegalArgumentException(VmArgs.noSuchVm(vms, named));
            }
        }
        String vm = VmArgs.resolve(vms, "info migrate", left).name();
        MigrationInfo info = migration.info(vm);
        String text = withTls(MigrationReport.info(info), migration.tls(vm));
        if (report == null) {
            return text;
        }
        MigrationHistory history = migration.history(vm);
        if (!reportable(history)) {
            throw new IllegalArgumentException("VM '" + vm + "' has no outgoing migration to report (run info migrate"
                    + " --report on the source, during or after its migrate)");
        }
        return text + "\n" + writeReport(Path.of(report), vm, info, history);
    }

    /** Whether {@code history} has a pass or a switchover to draw. */
    static boolean reportable(MigrationHistory history) {
        return !history.passes().isEmpty() || history.switchoverMs() >= 0;
    }

    /** Writes the page; returns the line that says where: {@code report: FILE (N passes)}. */
    static String writeReport(Path file, String vm, MigrationInfo info, MigrationHistory history) throws java.io.IOException {
        Path written = HtmlReport.write(file, vm, info, history);
        return "report: " + written + " (" + history.passes().size() + " passes)";
    }

    /** The report and, for a migration over TLS, its session: protocol, cipher suite and the peer. */
    static String withTls(String report, String tls) {
        return tls == null ? report : report + "\ntls: " + tls;
    }

    /** Takes {@code --report FILE} out of a command's arguments; null when absent. */
    static String reportOption(OptionArgs options) {
        return options.value("a FILE", "--report migration.html", "--report");
    }
}
