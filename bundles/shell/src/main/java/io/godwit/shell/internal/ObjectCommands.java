package io.godwit.shell.internal;

import io.godwit.api.tls.TlsObject;
import io.godwit.api.tls.TlsService;
import java.util.Map;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * QEMU's {@code object_add} and {@code object_del} for the security objects of the tls bundle, and
 * {@code info objects}; they exist exactly while that bundle runs. Key material is never shown: the
 * objects describe themselves by folder, subjects and validity.
 */
@Component(
        service = {ObjectCommands.class, InfoSubject.class},
        property = {
            "osgi.command.scope=godwit",
            "osgi.command.function=object_add",
            "osgi.command.function=object_del"
        })
public final class ObjectCommands implements InfoSubject {

    private final TlsService tls;

    @Activate
    public ObjectCommands(@Reference TlsService tls) {
        this.tls = tls;
    }

    @Descriptor("add a security object (QEMU's object_add): tls-creds-x509,id=ID,dir=DIR,endpoint=client|server"
            + "[,verify-peer=on|off] (DIR holds ca-cert.pem, server-cert.pem and server-key.pem or client-cert.pem"
            + " and client-key.pem, optionally ca-crl.pem); authz-simple,id=ID,identity=DN; authz-list,id=ID,"
            + "policy=deny|allow,rules.0.match=DN,rules.0.policy=allow[,rules.0.format=glob]. A comma inside a"
            + " value is written twice: identity=CN=client,,O=Example. See docs/tls.md")
    public String object_add(@Descriptor("TYPE,id=ID,key=value,...") String... spec) {
        return "added " + tls.add(String.join(" ", spec));
    }

    @Descriptor("remove a security object (QEMU's object_del); channels already secured keep their session")
    public void object_del(@Descriptor("ID: the object's id") String... id) {
        tls.delete(HostCommands.oneValue("object_del", "the object's ID", "object_del tls0", id));
    }

    @Override
    public String name() {
        return "objects";
    }

    @Override
    public String description() {
        return "info objects: the security objects (tls-creds-x509, authz-simple, authz-list), without keys";
    }

    @Override
    public Object show(String... args) {
        StringBuilder out = new StringBuilder();
        for (TlsObject o : tls.objects()) {
            out.append(o.id()).append(" (").append(o.type()).append(")\n");
            for (Map.Entry<String, String> e : o.properties().entrySet()) {
                out.append("  ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
            }
        }
        return out.isEmpty() ? "no objects" : out.toString().stripTrailing();
    }
}
