package io.godwit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TransportsInfoTest {

    private final TransportsInfo info = new TransportsInfo(new FakeMigration(new FakeVmManager()));

    @Test
    void listsSchemesBundlesAndCapabilities() {
        assertEquals("""
                scheme  bundle                          capabilities
                exec    io.godwit.transport-exec 0.1.0  -
                tcp     io.godwit.transport-tcp 0.1.0   multi-channel,bidirectional""", info.show());
    }

    @Test
    void takesNoArguments() {
        assertEquals("info transports takes no arguments",
                assertThrows(IllegalArgumentException.class, () -> info.show("x")).getMessage());
    }
}
