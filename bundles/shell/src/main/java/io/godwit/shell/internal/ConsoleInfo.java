package io.godwit.shell.internal;

import io.godwit.api.text.Printable;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code info console [NAME]}: what the guest wrote to its UART so far (kept by the host per VM, and
 * migrated with it). The guest's bytes are not the operator's terminal's commands: escape sequences,
 * other control characters, bidi and invisible characters are shown escaped, lines are kept.
 */
@Component(service = InfoSubject.class)
public final class ConsoleInfo implements InfoSubject {

    private final VmManager vms;

    @Activate
    public ConsoleInfo(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Override
    public String name() {
        return "console";
    }

    @Override
    public String description() {
        return "info console [NAME]: the guest's console (UART) output so far";
    }

    @Override
    public Object show(String... args) {
        Vm vm = VmArgs.resolve(vms, "info console", args);
        String text = vm.console();
        return text.isEmpty() ? "(no console output)" : Printable.escapeKeepingLines(text).stripTrailing();
    }
}
