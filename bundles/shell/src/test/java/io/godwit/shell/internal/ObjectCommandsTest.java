package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.godwit.api.tls.TlsService;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectCommandsTest {

    /** object_del takes its ID itself: none or two is a one-line error, and nothing is deleted. */
    @Test
    void objectDelNeedsExactlyOneId() {
        List<String> deleted = new ArrayList<>();
        TlsService tls = (TlsService) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {TlsService.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("delete")) {
                        deleted.add((String) args[0]);
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        ObjectCommands objects = new ObjectCommands(tls);
        assertEquals("object_del needs the object's ID, e.g. object_del tls0",
                assertThrows(IllegalArgumentException.class, objects::object_del).getMessage());
        assertEquals("object_del takes one value, the object's ID, not 2: e.g. object_del tls0",
                assertThrows(IllegalArgumentException.class, () -> objects.object_del("a", "b")).getMessage());
        objects.object_del("tls0");
        assertEquals(List.of("tls0"), deleted);
    }
}
