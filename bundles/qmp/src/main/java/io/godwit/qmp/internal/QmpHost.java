package io.godwit.qmp.internal;

import io.godwit.api.migration.MigrationService;
import io.godwit.api.tls.TlsService;
import io.godwit.api.vm.VmManager;
import org.apache.felix.service.command.CommandProcessor;

/**
 * What the commands of one VM's QMP server need from the host: its services, and the two things that
 * reach beyond one command (the host's events and the end of the VM). Implemented by {@link QmpService}.
 */
interface QmpHost {

    VmManager vms();

    /** The migration service. @throws QmpError when the coordinator is not running */
    MigrationService migration();

    /** The security objects, for object-add and object-del. @throws QmpError when the tls bundle is not running */
    TlsService tls();

    /** Gogo's command processor, for human-monitor-command. @throws QmpError when Gogo is not running */
    CommandProcessor shell();

    /**
     * Returns once every event queued so far went to the clients: a command that changed the run state
     * calls it before its reply, so that STOP or RESUME comes first, as in QEMU.
     */
    void eventsSent() throws InterruptedException;

    /** QMP's quit: ends the VM, after the reply has been sent (see docs/qmp.md). */
    void quit(String vm);

    /** The version the greeting and query-version report. */
    QmpVersion version();
}
