package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A command's {@code arguments} object, read member by member with QEMU's checks and QEMU's wording
 * (qobject-input-visitor.c): "Parameter 'uri' is missing", "Invalid parameter type for 'detach',
 * expected: boolean", and, once the command has read what it takes, "Parameter 'x' is unexpected".
 * Nested objects are named by their path, as QEMU names them ({@code capabilities[0].state}).
 */
final class Args {

    private final ObjectNode node;
    private final String prefix;
    private final Set<String> read = new HashSet<>();

    Args(ObjectNode node) {
        this(node, "");
    }

    private Args(ObjectNode node, String prefix) {
        this.node = node;
        this.prefix = prefix;
    }

    static Args empty() {
        return new Args(JsonNodeFactory.instance.objectNode());
    }

    private String full(String name) {
        return prefix + name;
    }

    private Optional<JsonNode> member(String name) {
        read.add(name);
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? Optional.empty() : Optional.of(value);
    }

    private JsonNode required(String name) {
        return member(name).orElseThrow(() -> QmpError.generic("Parameter '" + full(name) + "' is missing"));
    }

    private QmpError wrongType(String name, String expected) {
        return QmpError.generic("Invalid parameter type for '" + full(name) + "', expected: " + expected);
    }

    /** Whether the member is given (and not null), whatever its type. */
    boolean has(String name) {
        return member(name).isPresent();
    }

    String string(String name) {
        return asString(name, required(name));
    }

    Optional<String> optString(String name) {
        return member(name).map(v -> asString(name, v));
    }

    private String asString(String name, JsonNode v) {
        if (!v.isTextual()) {
            throw wrongType(name, "string");
        }
        return v.textValue();
    }

    boolean bool(String name) {
        return asBool(name, required(name));
    }

    boolean optBool(String name, boolean absent) {
        return member(name).map(v -> asBool(name, v)).orElse(absent);
    }

    private boolean asBool(String name, JsonNode v) {
        if (!v.isBoolean()) {
            throw wrongType(name, "boolean");
        }
        return v.booleanValue();
    }

    Optional<Long> optInteger(String name) {
        return member(name).map(v -> {
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw wrongType(name, "integer");
            }
            return v.longValue();
        });
    }

    /** An optional array of strings; empty when absent. */
    List<String> optStrings(String name) {
        Optional<JsonNode> v = member(name);
        if (v.isEmpty()) {
            return List.of();
        }
        if (!v.get().isArray()) {
            throw wrongType(name, "array");
        }
        List<String> items = new ArrayList<>();
        for (int i = 0; i < v.get().size(); i++) {
            items.add(asString(name + "[" + i + "]", v.get().get(i)));
        }
        return items;
    }

    /** The objects of an array member, each read as {@code Args} with its path. */
    List<Args> objects(String name) {
        return objects(name, required(name));
    }

    /** The objects of an optional array member; empty when absent. */
    List<Args> optObjects(String name) {
        return member(name).map(v -> objects(name, v)).orElse(List.of());
    }

    private List<Args> objects(String name, JsonNode v) {
        if (!v.isArray()) {
            throw wrongType(name, "array");
        }
        List<Args> items = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            String item = name + "[" + i + "]";
            if (!v.get(i).isObject()) {
                throw wrongType(item, "object");
            }
            items.add(new Args((ObjectNode) v.get(i), full(item) + "."));
        }
        return items;
    }

    /** An optional object member, read as {@code Args} with its path ({@code props.dir}). */
    Optional<Args> optObject(String name) {
        return member(name).map(v -> {
            if (!v.isObject()) {
                throw wrongType(name, "object");
            }
            return new Args((ObjectNode) v, full(name) + ".");
        });
    }

    /** Refuses what the command did not read: QEMU's visitors do the same after a command's arguments. */
    void done() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!read.contains(name)) {
                throw QmpError.generic("Parameter '" + full(name) + "' is unexpected");
            }
        }
    }

    QmpError badValue(String name, String value) {
        return QmpError.generic("Parameter '" + full(name) + "' does not accept value '" + value + "'");
    }
}
