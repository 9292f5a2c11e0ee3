package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The version QMP reports (QEMU's {@code VersionInfo}): Godwit's own, so that a client that decides
 * what to use by QEMU's version sees that this is not QEMU; {@code package} says which it is.
 */
record QmpVersion(int major, int minor, int micro, String packageName) {

    /** From an OSGi bundle version such as {@code 0.1.0.SNAPSHOT}. */
    static QmpVersion of(org.osgi.framework.Version v) {
        return new QmpVersion(v.getMajor(), v.getMinor(), v.getMicro(), "Godwit " + v);
    }

    /** {@code {"qemu": {"micro", "minor", "major"}, "package"}}, QEMU's member order. */
    ObjectNode json() {
        ObjectNode version = JsonNodeFactory.instance.objectNode();
        version.putObject("qemu").put("micro", micro).put("minor", minor).put("major", major);
        version.put("package", packageName);
        return version;
    }
}
