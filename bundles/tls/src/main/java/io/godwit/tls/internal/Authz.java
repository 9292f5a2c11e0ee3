package io.godwit.tls.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.security.auth.x500.X500Principal;

/**
 * QEMU's authorization objects for {@code tls-authz}: the identity is the client certificate's
 * subject DN, written as QEMU writes it ({@code CN=client,O=Example}: RFC 4514, most specific first).
 * DNs are compared in canonical form, so spacing and case of attribute names do not matter.
 */
sealed interface Authz {

    Set<String> SIMPLE_KEYS = Set.of("identity");
    Set<String> LIST_KEYS = Set.of("policy");

    String id();

    boolean allows(X500Principal subject);

    Map<String, String> description();

    static Authz create(ObjectSpec spec) {
        return switch (spec.type()) {
            case "authz-simple" -> {
                spec.allowOnly(SIMPLE_KEYS);
                yield new Simple(spec.id(), principal(spec, spec.require("identity")));
            }
            case "authz-list" -> ListAuthz.of(spec);
            default -> throw new IllegalArgumentException("not an authz type: " + spec.type());
        };
    }

    private static X500Principal principal(ObjectSpec spec, String dn) {
        try {
            return new X500Principal(dn);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(spec.type() + " '" + spec.id() + "': '" + dn + "' is not a DN such as"
                    + " CN=client,,O=Example (a comma in object_add is written twice)");
        }
    }

    /** {@code authz-simple,id=ID,identity=DN}: that one identity is allowed. */
    record Simple(String id, X500Principal identity) implements Authz {
        @Override
        public boolean allows(X500Principal subject) {
            return identity.equals(subject);
        }

        @Override
        public Map<String, String> description() {
            return Map.of("identity", identity.getName());
        }
    }

    /**
     * {@code authz-list,id=ID,policy=deny|allow,rules.0.match=DN,rules.0.policy=allow[,rules.0.format=exact|glob]...}:
     * the first rule that matches decides, else the policy (deny by default, as QEMU's).
     */
    record ListAuthz(String id, List<Rule> rules, boolean allowByDefault) implements Authz {

        record Rule(String match, boolean allow, boolean glob) {}

        static ListAuthz of(ObjectSpec spec) {
            spec.allowOnly(LIST_KEYS);
            Map<Integer, Map<String, String>> byIndex = new TreeMap<>();
            spec.properties().forEach((k, v) -> {
                if (k.startsWith("rules.")) {
                    String[] parts = k.split("\\.", 3);
                    if (parts.length != 3 || !parts[1].matches("[0-9]{1,4}") || !Set.of("match", "policy", "format").contains(parts[2])) {
                        throw new IllegalArgumentException("authz-list '" + spec.id() + "': '" + k
                                + "' is not rules.N.match, rules.N.policy or rules.N.format");
                    }
                    byIndex.computeIfAbsent(Integer.parseInt(parts[1]), i -> new TreeMap<>()).put(parts[2], v);
                }
            });
            List<Rule> rules = new ArrayList<>();
            byIndex.forEach((i, r) -> {
                if (r.get("match") == null) {
                    throw new IllegalArgumentException("authz-list '" + spec.id() + "': rules." + i + ".match is missing");
                }
                rules.add(new Rule(r.get("match"), policy(spec, r.getOrDefault("policy", "deny")),
                        switch (r.getOrDefault("format", "exact")) {
                            case "exact" -> false;
                            case "glob" -> true;
                            default -> throw new IllegalArgumentException("authz-list '" + spec.id() + "': rules." + i
                                    + ".format is exact or glob");
                        }));
            });
            return new ListAuthz(spec.id(), List.copyOf(rules), policy(spec, spec.get("policy", "deny")));
        }

        private static boolean policy(ObjectSpec spec, String p) {
            return switch (p) {
                case "allow" -> true;
                case "deny" -> false;
                default -> throw new IllegalArgumentException("authz-list '" + spec.id() + "': a policy is allow or deny,"
                        + " not '" + p + "'");
            };
        }

        @Override
        public boolean allows(X500Principal subject) {
            String dn = subject.getName();
            for (Rule r : rules) {
                boolean match = r.glob() ? glob(r.match()).matcher(dn).matches() : sameDn(r.match(), subject);
                if (match) {
                    return r.allow();
                }
            }
            return allowByDefault;
        }

        /** fnmatch's {@code *} and {@code ?}, as QEMU's glob rules; everything else is literal. */
        static java.util.regex.Pattern glob(String pattern) {
            StringBuilder re = new StringBuilder();
            for (char c : pattern.toCharArray()) {
                re.append(c == '*' ? ".*" : c == '?' ? "." : java.util.regex.Pattern.quote(String.valueOf(c)));
            }
            return java.util.regex.Pattern.compile(re.toString());
        }

        private static boolean sameDn(String dn, X500Principal subject) {
            try {
                return new X500Principal(dn).equals(subject);
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        @Override
        public Map<String, String> description() {
            Map<String, String> d = new java.util.LinkedHashMap<>();
            d.put("policy", allowByDefault ? "allow" : "deny");
            for (int i = 0; i < rules.size(); i++) {
                Rule r = rules.get(i);
                d.put("rule " + i, (r.allow() ? "allow " : "deny ") + (r.glob() ? "glob " : "") + r.match());
            }
            return d;
        }
    }
}
