package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.godwit.api.tls.TlsObject;
import io.godwit.api.tls.TlsService;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * QMP's {@code object-add} and {@code object-del} (qapi/qom.json) for the objects Godwit has, QEMU's
 * {@code tls-creds-x509}, {@code authz-simple} and {@code authz-list}, kept by the tls bundle's
 * {@link TlsService}: the same objects as the shell's {@code object_add}. The JSON members (flat beside
 * {@code qom-type} and {@code id}, as QEMU 6.0 and later take them, or in {@code props}, as before) are
 * checked against QEMU's schema and written as {@link TlsService#add}'s option string, a comma in a value
 * doubled so that no value can add an option; authz-list's {@code rules} array becomes
 * {@code rules.N.match}, {@code rules.N.policy} and {@code rules.N.format}, as the shell writes them.
 * Errors that QEMU's object code raises itself keep its wording; the rest are the service's one line,
 * which names files and never holds key material.
 *
 * <p>The objects belong to the VM whose QMP added them, as a QEMU process's objects belong to it: the
 * service holds them under {@link #internalId}, {@code qmpN-VM-ID} (N the length of the VM's name, so that
 * no two VMs' ids can meet however their names and ids run together), so that libvirt's
 * {@code objlibvirt_migrate_tls0} of one VM is not another's. Duplicates and deletes are judged within
 * the VM's own objects; {@link #resolve} lets tls-creds and tls-authz name the VM's own object or else a
 * host-wide one of the shell, and {@link #deleteAll} ends them with the VM.
 */
final class ObjectCommands {

    static final String TLS_CREDS_X509 = "tls-creds-x509";
    static final String AUTHZ_SIMPLE = "authz-simple";
    static final String AUTHZ_LIST = "authz-list";

    /** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.' and '_'. */
    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");
    private static final List<String> POLICIES = List.of("deny", "allow");
    private static final List<String> ENDPOINTS = List.of("client", "server");

    /** Members of QEMU's tls-creds-x509 that Godwit's credentials do not have, and why. */
    private static final Map<String, String> X509_MISSING = Map.of(
            "priority", "the JDK's TLS picks TLS 1.3 or 1.2 and its ciphers, not a GnuTLS priority string",
            "passwordid", "the key file must be unencrypted, as docs/tls.md makes it",
            "sanity-check", "the files are always read and the key matched to its certificate at object-add");

    /** ObjectSpec's limit on an id. */
    private static final int MAX_ID = 64;

    private final String vm;
    private final Supplier<TlsService> service;

    ObjectCommands(String vm, Supplier<TlsService> service) {
        this.vm = vm;
        this.service = service;
    }

    /** What VM {@code vm}'s object {@code id} is called in the host-wide service. */
    static String internalId(String vm, String id) {
        return prefix(vm) + id;
    }

    private static String prefix(String vm) {
        return "qmp" + vm.length() + "-" + vm + "-";
    }

    /** Deletes what {@code vm}'s QMP added, as QEMU's objects end with its process. */
    static void deleteAll(TlsService tls, String vm) {
        String prefix = prefix(vm);
        tls.objects().stream().map(TlsObject::id).filter(id -> id.startsWith(prefix)).forEach(id -> {
            try {
                tls.delete(id);
            } catch (IllegalArgumentException gone) {
                // deleted meanwhile, by the shell's object_del
            }
        });
    }

    /**
     * The object a migration parameter's {@code id} names: this VM's own, or else the host-wide one of
     * that id (the shell's); empty stays empty (unset). Without the tls bundle the id is left as it is.
     */
    String resolve(String id) {
        if (id.isEmpty()) {
            return id;
        }
        TlsService tls;
        try {
            tls = service.get();
        } catch (QmpError away) {
            return id; // as before object-add existed: the migration names what it names
        }
        String own = internalId(vm, id);
        return exists(tls, own) ? own : id;
    }

    /** The id as this VM's client gave it: an internal id of this VM without its prefix. */
    String shown(String id) {
        String prefix = prefix(vm);
        return id.startsWith(prefix) ? id.substring(prefix.length()) : id;
    }

    JsonNode add(Args args) {
        String type = args.string("qom-type");
        String id = args.string("id");
        String internal = internalId(vm, id);
        Args props = args.optObject("props").orElse(args); // QEMU before 6.0 nested the properties
        StringBuilder spec = new StringBuilder(type);
        put(spec, "id", internal);
        switch (type) {
            case TLS_CREDS_X509 -> x509(props, spec);
            case AUTHZ_SIMPLE -> put(spec, "identity", props.string("identity"));
            case AUTHZ_LIST -> list(props, spec);
            default -> throw QmpError.generic("invalid object type: " + type + " (Godwit's objects are "
                    + TLS_CREDS_X509 + ", " + AUTHZ_SIMPLE + " and " + AUTHZ_LIST + ")");
        }
        props.done();
        args.done();
        if (!ID.matcher(id).matches()) {
            throw QmpError.generic("Parameter 'id' expects an identifier"); // QEMU's user_creatable_add_type
        }
        if (internal.length() > MAX_ID) {
            throw QmpError.generic("Parameter 'id' is too long: VM " + vm + "'s objects are kept as " + internal
                    + ", at most " + MAX_ID + " characters (see docs/qmp.md)");
        }
        TlsService tls = service.get();
        if (exists(tls, internal)) {
            throw QmpError.generic("attempt to add duplicate property '" + id + "' to object (type 'container')");
        }
        try {
            tls.add(spec.toString());
        } catch (IllegalArgumentException e) { // the service names the object by the id it holds
            throw QmpError.generic(String.valueOf(e.getMessage()).replace("'" + internal + "'", "'" + id + "'"));
        }
        return QmpCommands.empty();
    }

    JsonNode delete(Args args) {
        String id = args.string("id");
        args.done();
        TlsService tls = service.get();
        String internal = internalId(vm, id);
        if (!exists(tls, internal)) {
            throw QmpError.generic("object '" + id + "' not found"); // QEMU's user_creatable_del
        }
        tls.delete(internal);
        return QmpCommands.empty();
    }

    private static boolean exists(TlsService tls, String id) {
        return tls.objects().stream().anyMatch(o -> o.id().equals(id));
    }

    /** QEMU's TlsCredsX509Properties: {@code dir}, {@code endpoint}, {@code verify-peer}. */
    private static void x509(Args p, StringBuilder spec) {
        for (Map.Entry<String, String> missing : X509_MISSING.entrySet()) {
            if (p.has(missing.getKey())) {
                throw QmpError.generic("Parameter '" + missing.getKey() + "' is not supported: " + missing.getValue());
            }
        }
        p.optString("dir").ifPresent(dir -> put(spec, "dir", dir));
        p.optString("endpoint").ifPresent(e -> put(spec, "endpoint", oneOf(p, "endpoint", e, ENDPOINTS)));
        put(spec, "verify-peer", p.optBool("verify-peer", true) ? "on" : "off");
    }

    /** QEMU's AuthZListProperties: {@code policy}, {@code rules: [{match, policy, format}]}. */
    private static void list(Args p, StringBuilder spec) {
        p.optString("policy").ifPresent(v -> put(spec, "policy", oneOf(p, "policy", v, POLICIES)));
        List<Args> rules = p.optObjects("rules");
        for (int i = 0; i < rules.size(); i++) {
            Args rule = rules.get(i);
            put(spec, "rules." + i + ".match", rule.string("match"));
            put(spec, "rules." + i + ".policy", oneOf(rule, "policy", rule.string("policy"), POLICIES));
            String key = "rules." + i + ".format";
            rule.optString("format").ifPresent(f -> put(spec, key, oneOf(rule, "format", f, List.of("exact", "glob"))));
            rule.done();
        }
    }

    private static String oneOf(Args args, String member, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw args.badValue(member, value);
        }
        return value;
    }

    /** {@code ,key=value}, a comma in the value written twice (QemuOpts), so that it stays in the value. */
    private static void put(StringBuilder spec, String key, String value) {
        spec.append(',').append(key).append('=').append(value.replace(",", ",,"));
    }
}
