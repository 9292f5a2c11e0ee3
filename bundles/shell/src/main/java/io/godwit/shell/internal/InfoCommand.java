package io.godwit.shell.internal;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * {@code info SUBJECT [ARGS]}, as in QEMU's monitor: one Gogo command that dispatches to the
 * {@link InfoSubject} services, so adding a subject needs no change here.
 */
@Component(
        service = InfoCommand.class,
        property = {"osgi.command.scope=godwit", "osgi.command.function=info"})
public final class InfoCommand {

    private final Map<String, InfoSubject> subjects = new ConcurrentSkipListMap<>();

    @Reference(
            cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addSubject(InfoSubject subject) {
        subjects.put(subject.name(), subject);
    }

    void removeSubject(InfoSubject subject) {
        subjects.remove(subject.name(), subject);
    }

    @Descriptor("show information about the host and its VMs: info SUBJECT [NAME]; "
            + "subjects include status, vms and cpus; info alone lists them all")
    public Object info(@Descriptor("the subject and its arguments, e.g. status a") String... args)
            throws Exception {
        if (args == null || args.length == 0) {
            return list();
        }
        InfoSubject subject = subjects.get(args[0]);
        if (subject == null) {
            throw new IllegalArgumentException(
                    "unknown info subject '" + args[0] + "': known are " + String.join(", ", subjects.keySet()));
        }
        return subject.show(Arrays.copyOfRange(args, 1, args.length));
    }

    private String list() {
        Table t = new Table("SUBJECT", "SHOWS");
        subjects.values().forEach(s -> t.add(s.name(), s.description()));
        return t.toString();
    }
}
