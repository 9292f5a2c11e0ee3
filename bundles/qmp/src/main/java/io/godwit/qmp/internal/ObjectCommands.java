package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.JsonNode;
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

    private final Supplier<TlsService> service;

    ObjectCommands(Supplier<TlsService> service) {
        this.service = service;
    }

    JsonNode add(Args args) {
        String type = args.string("qom-type");
        String id = args.string("id");
        Args props = args.optObject("props").orElse(args); // QEMU before 6.0 nested the properties
        StringBuilder spec = new StringBuilder(type);
        put(spec, "id", id);
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
        TlsService tls = service.get();
        if (exists(tls, id)) {
            throw QmpError.generic("attempt to add duplicate property '" + id + "' to object (type 'container')");
        }
        tls.add(spec.toString());
        return QmpCommands.empty();
    }

    JsonNode delete(Args args) {
        String id = args.string("id");
        args.done();
        TlsService tls = service.get();
        if (!exists(tls, id)) {
            throw QmpError.generic("object '" + id + "' not found"); // QEMU's user_creatable_del
        }
        tls.delete(id);
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
